// The jailer's argv and chroot layout as Firecracker's docs/jailer.md describe them: the
// chroot at <base>/<exec name>/<id>/root, resources hard-linked in (the very same files), the
// API socket of a (simulated) Firecracker started with the jail's paths at <chroot>/api.sock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IN_JAIL,
  jailerArgv,
  jailLayout,
  prepareJail,
  removeJail,
  type JailOptions,
} from '../../../app/engine/firecracker/jailer.js';
import { BangerError } from '../../../app/base/errors.js';

const SIM = join(import.meta.dirname, '..', '..', 'fixtures', 'firecracker-sim');

function opts(base: string, over: Partial<JailOptions> = {}): JailOptions {
  return {
    jailerBin: '/usr/bin/jailer',
    firecrackerBin: '/usr/bin/firecracker',
    id: '0123456789abcdef',
    uid: 1234,
    gid: 1235,
    chrootBase: base,
    ...over,
  };
}

test('argv: the documented flags, uid/gid, cgroup v2 under banger, firecracker args after --', () => {
  const argv = jailerArgv(opts('/srv/jailer', { netns: '/var/run/netns/x' }));
  assert.equal(argv, [
    '/usr/bin/jailer',
    '--id',
    '0123456789abcdef',
    '--exec-file',
    '/usr/bin/firecracker',
    '--uid',
    '1234',
    '--gid',
    '1235',
    '--chroot-base-dir',
    '/srv/jailer',
    '--cgroup-version',
    '2',
    '--parent-cgroup',
    'banger',
    '--netns',
    '/var/run/netns/x',
    '--',
    '--api-sock',
    '/api.sock',
  ]);
  assert.not.ok(argv.slice(argv.indexOf('--')).includes('--id'), 'the jailer passes --id itself');
});

test('refused: an id the jailer would refuse, an exec file not named firecracker', () => {
  assert.throws(
    () => jailerArgv(opts('/b', { id: 'a/b' })),
    (e: unknown) => e instanceof BangerError,
  );
  assert.throws(
    () => jailerArgv(opts('/b', { id: 'x'.repeat(65) })),
    (e: unknown) => e instanceof BangerError,
  );
  assert.throws(
    () => jailerArgv(opts('/b', { firecrackerBin: '/usr/bin/qemu' })),
    (e: unknown) => e instanceof BangerError,
  );
});

test('layout: resources hard-linked into <base>/firecracker/<id>/root; a simulated jailed VMM puts its socket there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-jail-'));
  try {
    const vm = join(dir, 'vm');
    mkdirSync(vm);
    const files = {
      kernel: 'vmlinux',
      initrd: 'initrd.img',
      rootfs: 'disk.ext4',
      vmmLog: 'vmm.log',
      metrics: 'metrics.json',
      seed: 'seed.ext4',
    };
    for (const f of Object.values(files)) writeFileSync(join(vm, f), f);
    const o = opts(join(dir, 'jail'), { firecrackerBin: SIM });
    const host = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(vm, f)])) as Record<string, string>;
    const j = prepareJail(o, {
      kernel: host.kernel,
      initrd: host.initrd,
      rootfs: host.rootfs,
      vmmLog: host.vmmLog,
      metrics: host.metrics,
      drives: [{ id: 'seed', path: host.seed, readOnly: true }],
    });
    assert.is(j.chrootDir, join(dir, 'jail', 'firecracker-sim', o.id, 'root'));
    assert.equal(jailLayout(o), {
      jailDir: j.jailDir,
      chrootDir: j.chrootDir,
      socketOnHost: join(j.chrootDir, 'api.sock'),
    });
    assert.equal(j.paths, {
      kernel: IN_JAIL.kernel,
      initrd: IN_JAIL.initrd,
      rootfs: IN_JAIL.rootfs,
      vmmLog: IN_JAIL.vmmLog,
      metrics: IN_JAIL.metrics,
      drives: [{ id: 'seed', path: '/seed.drive', readOnly: true }],
    });
    const { drives, ...single } = j.paths;
    assert.is(statSync(join(j.chrootDir, drives![0].path)).ino, statSync(host.seed).ino, 'the seed drive, linked');
    for (const [k, inJail] of Object.entries(single)) {
      const a = statSync(host[k]);
      const b = statSync(join(j.chrootDir, inJail!));
      assert.is(b.ino, a.ino, `${k}: the same file, not a copy (a disk copy would fork the VM's state)`);
    }
    // What the jailer execs, seen from the host: firecracker's API socket at <chroot>/<api-sock>.
    const sim = spawn(SIM, ['--api-sock', join(j.chrootDir, IN_JAIL.socket), '--id', o.id], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 10_000;
      while (!existsSync(j.socketOnHost)) {
        assert.ok(Date.now() < deadline, 'the API socket appears');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(statSync(j.socketOnHost).isSocket());
    } finally {
      sim.kill('SIGKILL');
    }
    removeJail(o);
    assert.not.ok(existsSync(j.jailDir), 'the jail goes');
    assert.ok(existsSync(host.rootfs), 'the originals stay');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
