// test-run: group guest (boots a QEMU guest under TCG: one guest at a time, beside the unit files, so each keeps a core)
// VM state you can keep, on a real QEMU guest inside a throwaway network namespace: pause (the
// guest's counter stops and the VMM idles), snapshot, change the disk and the memory, restore
// (the file is back and the counter continues from the snapshot's value), snapshot records and
// their removal, and `image shell --save-as` producing an image that boots with the change.
// Prints snapshot/restore/cold-boot times for a 256 MiB guest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { EventRecord, SnapshotRecord, VmRecord } from '../../app/contract/api.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { alive, banger, json, killByEnv, Netns, readOr, run, sleep, waitFor, ok, qemuEnv } from './harness.js';
import { debKernel } from './deb-kernel.js';

const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['ssh', 'openssh-client'],
  ['ip', 'iproute2'],
  ['setsid', 'util-linux'],
  ['apt-get', 'apt'],
]
  .filter(([bin]) => !which(bin, `${process.env.PATH}:/usr/sbin:/sbin`))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const skip = firstReason(missingReason(missing), NEEDS_ROOT);
const e2e = runIf(test, skip);

/** The guest's counter prints "COUNTER n" on its serial console each second. */
const COUNTER =
  '( i=0; while :; do i=$((i+1)); echo "COUNTER $i" > /dev/console; sleep 1; done ) </dev/null >/dev/null 2>&1 & echo $! > /root/counter.pid';

function counters(text: string): number[] {
  return [...text.matchAll(/COUNTER (\d+)/g)].map((m) => Number(m[1]));
}

/** utime+stime of pid in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const figures: string[] = [];

// eslint-disable-next-line max-lines-per-function -- one scenario, one real guest: split steps would each re-boot it
e2e('pause, snapshot, restore and image shell on a real QEMU guest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-snap-'));
  const base = qemuEnv(root, 'snap');
  const paths = resolvePaths(base);
  let ns: Netns | null = null;
  try {
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    ok(await banger(null, ['image', 'build', 'bb', '--from', 'busybox'], build, 180_000), 'image build');
    await debKernel((args, ms) => banger(null, args, build, ms)); // fetched once, then cached
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');

    ns = await Netns.create(`banger-snap-${process.pid}`);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: '127.0.0.1:10053' };
    const b = (args: string[], timeoutMs?: number) => banger(ns, args, env, timeoutMs);
    const ssh = (name: string, cmd: string) => b(['vm', 'ssh', name, '--', cmd], 30_000);

    // ---- cold boot of a 256 MiB guest, timed to the guest's ready marker
    ok(await b(['vm', 'create', 'keep', '--memory', '256', '--json']), 'vm create');
    const bootT0 = Date.now();
    const vm = json<VmRecord>(ok(await b(['vm', 'start', 'keep', '--json'], 90_000), 'vm start'), 'vm start');
    const log = vmPaths(paths, vm.id).consoleLog;
    await waitFor('BANGER_READY', () => (/BANGER_READY/.test(readOr(log)) ? true : null), 90_000, 100);
    const coldBootMs = Date.now() - bootT0;
    ok(await ssh('keep', `echo one > /root/file; sync; ${COUNTER}`), 'write file, start counter');
    await waitFor('the counter to tick', () => (counters(readOr(log)).length >= 2 ? true : null), 30_000, 200);

    // ---- paused: the counter stops and the VMM idles; DNS keeps the record
    const paused = json<VmRecord>(ok(await b(['vm', 'pause', 'keep', '--json']), 'vm pause'), 'vm pause');
    assert.is(paused.state, 'paused');
    const ls = json<VmRecord[]>(ok(await b(['vm', 'ls', '--json']), 'vm ls'), 'vm ls');
    assert.is(ls[0].state, 'paused', 'vm ls --json says paused');
    const dns = json<{ name: string }[]>(ok(await b(['dns', 'ls', '--json']), 'dns ls'), 'dns ls');
    assert.ok(
      dns.some((r) => r.name === 'keep.vm.'),
      'a paused VM keeps its DNS record',
    );
    const before = counters(readOr(log)).length;
    const t0 = cpuTicks(vm.pid!);
    await sleep(3000);
    const pausedCpuPct = ((cpuTicks(vm.pid!) - t0) / 100 / 3) * 100;
    assert.is(counters(readOr(log)).length, before, 'no counter tick while paused');
    assert.ok(pausedCpuPct < 5, `a paused VMM uses almost no CPU: ${pausedCpuPct.toFixed(1)}% of a core`);

    // ---- snapshot while paused: the counter value at this moment is the snapshot's
    const snapValue = counters(readOr(log)).at(-1)!;
    const s1 = json<SnapshotRecord>(ok(await b(['vm', 'snapshot', 'keep', 's1', '--json'], 120_000), 'snapshot'), 's1');
    assert.is(s1.name, 's1');
    assert.is(s1.parent, null);
    assert.ok(s1.sizeBytes > 0, 'size recorded');
    const snapDir = join(vmPaths(paths, vm.id).snapshotsDir, 's1');
    assert.ok(statSync(join(snapDir, 'vm.state')).size > 0, 'the migration stream was written');
    assert.ok(existsSync(join(snapDir, 'disk.ext4')), 'the disk copy is there');
    assert.is(json<VmRecord>(ok(await b(['vm', 'show', 'keep', '--json']), 'show'), 'show').state, 'paused');
    ok(await b(['vm', 'resume', 'keep']), 'vm resume');
    await waitFor(
      'the counter to tick after resume',
      () => (counters(readOr(log)).length > before ? true : null),
      30_000,
    );

    // ---- change both: the file, and the counter (restarted far away)
    ok(
      await ssh(
        'keep',
        `echo two > /root/file; sync; kill $(cat /root/counter.pid); ${COUNTER.replace('i=0', 'i=10000')}`,
      ),
      'change',
    );
    await waitFor('the new counter', () => (counters(readOr(log)).some((n) => n > 10000) ? true : null), 30_000, 200);
    assert.is(ok(await ssh('keep', 'cat /root/file'), 'cat').stdout.trim(), 'two');

    // ---- restore: the file is "one" again and the counter continues from snapValue
    const offset = statSync(log).size;
    const restored = json<VmRecord>(ok(await b(['vm', 'restore', 'keep', 's1', '--json'], 120_000), 'restore'), 'r');
    assert.is(restored.state, 'running');
    assert.is(restored.ip, vm.ip, 'same IP');
    assert.is(restored.mac, vm.mac, 'same MAC');
    assert.is.not(restored.pid, vm.pid, 'a new QEMU process');
    // The old guest may tick (10000+) until it is killed; the restored one counts from snapValue.
    const restoredTicks = () => {
      const c = counters(readOr(log).slice(offset));
      const i = c.findIndex((n) => n < 10000);
      return i < 0 ? null : c.slice(i);
    };
    await waitFor('two counter ticks after restore', () => ((restoredTicks()?.length ?? 0) >= 2 ? true : null), 30_000);
    const after = restoredTicks()!;
    assert.ok(
      after[0] > snapValue && after[0] <= snapValue + 2,
      `the counter continues from the snapshot's ${snapValue}: got ${after.slice(0, 5).join(',')}`,
    );
    assert.not.ok(
      after.some((n) => n >= 10000),
      'the changed counter is gone',
    );
    assert.is(ok(await ssh('keep', 'cat /root/file'), 'cat after restore').stdout.trim(), 'one', 'disk restored');

    // ---- records: parent, list, rm; timings from the engine's events
    const s2 = json<SnapshotRecord>(ok(await b(['vm', 'snapshot', 'keep', 's2', '--json'], 120_000), 's2'), 's2');
    assert.is(s2.parent, 's1', 'taken after restoring s1');
    const list = json<SnapshotRecord[]>(ok(await b(['vm', 'snapshots', 'keep', '--json']), 'snapshots'), 'list');
    assert.equal(
      list.map((s) => s.name),
      ['s1', 's2'],
    );
    assert.match(ok(await b(['vm', 'snapshots', 'keep']), 'snapshots table').stdout, /2 snapshots, .* on disk/);
    ok(await b(['vm', 'snapshot', 'rm', 'keep', 's2']), 'snapshot rm');
    assert.not.ok(existsSync(join(vmPaths(paths, vm.id).snapshotsDir, 's2')), 's2 files deleted');
    const events = json<EventRecord[]>(ok(await b(['engine', 'events', '--json']), 'events'), 'events');
    const ms = (re: RegExp) => Number(events.map((e) => re.exec(e.message)?.[1]).find(Boolean));
    figures.push(
      `256 MiB guest (${restored.backend}, ${process.env.BANGER_QEMU_ACCEL ?? 'auto accel'}): snapshot ${ms(/snapshot s1 taken \((\d+) ms\)/)} ms ` +
        `(state ${(statSync(join(snapDir, 'vm.state')).size / 2 ** 20).toFixed(1)} MiB), restore ${ms(/restored from snapshot s1 \((\d+) ms\)/)} ms, ` +
        `cold boot to ready ${coldBootMs} ms; paused VMM CPU ${pausedCpuPct.toFixed(2)}%`,
    );

    // ---- vm rm takes the snapshots with it
    ok(await b(['vm', 'rm', 'keep', '--force']), 'vm rm');
    assert.not.ok(existsSync(vmPaths(paths, vm.id).dir), 'VM dir (snapshots included) deleted');
    assert.not.ok(alive(restored.pid!), 'QEMU gone');

    // ---- image shell --save-as: the saved image boots with the change
    ok(
      await b(['image', 'shell', 'bb', '--save-as', 'bb2', '--', 'echo custom > /root/marker; sync'], 240_000),
      'image shell',
    );
    const imgs = json<{ name: string }[]>(ok(await b(['image', 'ls', '--json']), 'image ls'), 'image ls');
    assert.ok(
      imgs.some((i) => i.name === 'bb2'),
      'image bb2 registered',
    );
    assert.equal(json<VmRecord[]>(ok(await b(['vm', 'ls', '--json']), 'vm ls'), 'vm ls'), [], 'throwaway VM deleted');
    ok(await b(['vm', 'create', 'child', '--image', 'bb2', '--start']), 'vm from bb2');
    const child = json<VmRecord>(ok(await b(['vm', 'show', 'child', '--json']), 'show child'), 'child');
    const clog = vmPaths(paths, child.id).consoleLog;
    await waitFor('child ready', () => (/BANGER_READY/.test(readOr(clog)) ? true : null), 90_000, 200);
    assert.is(ok(await ssh('child', 'cat /root/marker'), 'cat marker').stdout.trim(), 'custom');
    ok(await b(['vm', 'rm', 'child', '--force']), 'vm rm child');
    ok(await b(['engine', 'stop']), 'engine stop');
  } finally {
    if (ns) await ns.destroy();
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e qemu-snapshot: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    for (const f of figures) console.log(`e2e qemu-snapshot: ${f}`);
  }
});

if (!skip)
  test.before(async () => {
    await run(['ip', 'netns', 'delete', `banger-snap-${process.pid}`]).catch(() => undefined);
  });

test.run();
