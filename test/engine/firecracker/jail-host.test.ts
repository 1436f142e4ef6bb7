// What doctor checks for a real jailer: the cgroup2 hierarchy (and the cgroup version banger
// passes follows it), a parent cgroup the jailer could not move into, and a chroot base on a
// nodev mount (where the device nodes the jailer makes cannot be opened).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroup2Mount, jailHostChecks, mountOf, parseMounts } from '../../../app/engine/firecracker/jail-host.js';
import { decideJail } from '../../../app/engine/firecracker/jail-mode.js';

const V1 = 'cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n/dev/vda / ext4 rw 0 0\n';

test('the cgroup2 hierarchy, and mounts with escaped spaces', () => {
  assert.is(cgroup2Mount(parseMounts(V1)), null);
  assert.is(
    cgroup2Mount(parseMounts(V1 + 'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n')),
    '/sys/fs/cgroup/unified',
  );
  const m = parseMounts('/dev/sdb /mnt/my\\040disk ext4 rw,nodev 0 0\n');
  assert.is(m[0].dir, '/mnt/my disk');
});

test('jail base: nodev is refused, a base without it passes; a missing base is made later', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jhost-'));
  const mounts = parseMounts(`/dev/vda / ext4 rw 0 0\ntmpfs ${dir} tmpfs rw,nosuid,nodev 0 0\n`);
  assert.is(mountOf(join(dir, 'not', 'yet'), mounts)?.dir, dir, 'the nearest existing ancestor decides');
  const [, bad] = jailHostChecks(join(dir, 'jail'), 'banger', mounts);
  assert.is(bad.ok, false);
  assert.match(bad.detail, /mounted nodev/);
  const [, good] = jailHostChecks('/srv/jailer/x', 'banger', parseMounts('/dev/vda / ext4 rw 0 0\n'));
  assert.is(good.ok, true, good.detail);
  assert.match(good.detail, /made at the first jailed start/);
});

test('cgroups: a parent with controllers enabled for its children fails; without cgroup2, v1 and no check', () => {
  const cg = mkdtempSync(join(tmpdir(), 'jcg-'));
  mkdirSync(join(cg, 'banger'));
  writeFileSync(join(cg, 'banger', 'cgroup.subtree_control'), 'memory pids\n');
  const mounts = parseMounts(`cgroup2 ${cg} cgroup2 rw 0 0\n/dev/vda / ext4 rw 0 0\n`);
  const [busy] = jailHostChecks('/srv/jailer/x', 'banger', mounts);
  assert.is(busy.ok, false);
  assert.match(busy.detail, /EBUSY/);
  writeFileSync(join(cg, 'banger', 'cgroup.subtree_control'), '\n');
  assert.is(jailHostChecks('/srv/jailer/x', 'banger', mounts)[0].ok, true);
  const [none] = jailHostChecks('/srv/jailer/x', 'banger', parseMounts(V1));
  assert.is(none.ok, true);
  assert.match(none.detail, /--cgroup-version 1/);
});

test('the cgroup version banger passes follows the mounts (v2 without a cgroup2 mount fails the jailer)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jmounts-'));
  const m1 = join(dir, 'v1');
  const m2 = join(dir, 'v2');
  writeFileSync(m1, V1);
  writeFileSync(m2, V1 + 'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n');
  const inputs = { setting: 'auto' as const, jailerBin: 'sh', firecrackerBin: 'sh', isRoot: true, stateDir: dir };
  assert.is(decideJail({ ...inputs, procMounts: m1 }).choice?.opts.cgroupVersion, 1);
  assert.is(decideJail({ ...inputs, procMounts: m2 }).choice?.opts.cgroupVersion, 2);
});

test.run();
