// test-run: group guest (boots a QEMU guest under TCG: one guest at a time, beside the unit files, so each keeps a core)
// Suspend, clone and a restore that cannot lose the disk, on a real QEMU guest inside a
// throwaway network namespace, one boot shared by all of it:
// - `vm stop --save`, the engine stopped and the bridge gone too (a host reboot), `vm start`: a file in the guest's /tmp and a
//   process are where they were, same IP and MAC, no new boot on the console;
// - `vm clone` of the stopped source: the clone answers on its own IP and name (dig, and ping
//   from the source's guest) while the source runs;
// - a restore whose recorded QEMU version differs is refused with the VM running on; one whose
//   stream fails to load leaves the disk as it was before the restore.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { VmRecord } from '../../app/contract/api.js';
import { Store } from '../../app/engine/store.js';
import { snapshotFiles } from '../../app/engine/snapshots/service.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { alive, banger, json, killByEnv, Netns, readOr, run, waitFor, ok, qemuEnv } from './harness.js';
import { debKernel } from './deb-kernel.js';

const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['ssh', 'openssh-client'],
  ['ip', 'iproute2'],
  ['dig', 'dnsutils'],
  ['debugfs', 'e2fsprogs'],
  ['setsid', 'util-linux'],
  ['apt-get', 'apt'],
]
  .filter(([bin]) => !which(bin, `${process.env.PATH}:/usr/sbin:/sbin`))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const skip = firstReason(missingReason(missing), NEEDS_ROOT);
const e2e = runIf(test, skip);
const DNS_PORT = 10053;

/** A file in the guest's root filesystem, read from the disk image (the VM stopped). */
async function diskFile(disk: string, path: string): Promise<string> {
  const r = await run(['debugfs', '-R', `cat ${path}`, disk], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  return r.stdout.trim();
}

const figures: string[] = [];

// eslint-disable-next-line max-lines-per-function -- one scenario, one real guest: split steps would each re-boot it
e2e('suspend and resume, clone, and restores that keep the disk, on a real QEMU guest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-susp-'));
  const base = qemuEnv(root, 'susp');
  const paths = resolvePaths(base);
  let ns: Netns | null = null;
  try {
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    ok(await banger(null, ['image', 'build', 'bb', '--from', 'busybox'], build, 180_000), 'image build');
    await debKernel((args, ms) => banger(null, args, build, ms)); // fetched once, then cached
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');

    ns = await Netns.create(`banger-susp-${process.pid}`);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: `127.0.0.1:${DNS_PORT}` };
    const b = (args: string[], timeoutMs?: number) => banger(ns, args, env, timeoutMs);
    const ssh = (name: string, cmd: string) => b(['vm', 'ssh', name, '--', cmd], 30_000);
    const show = async (name: string) => json<VmRecord>(ok(await b(['vm', 'show', name, '--json']), 'show'), 'show');

    // ---- one cold boot
    ok(await b(['vm', 'create', 'src', '--memory', '256']), 'vm create');
    const vm = json<VmRecord>(ok(await b(['vm', 'start', 'src', '--json'], 90_000), 'vm start'), 'vm start');
    const log = vmPaths(paths, vm.id).consoleLog;
    await waitFor('BANGER_READY', () => (/BANGER_READY/.test(readOr(log)) ? true : null), 90_000, 100);
    const started = ok(
      await ssh('src', 'echo kept-42 > /tmp/mark; (while :; do sleep 1; done) </dev/null >/dev/null 2>&1 & echo $!'),
      'write /tmp, start a process',
    );
    const guestPid = started.stdout.trim();
    assert.match(guestPid, /^\d+$/);

    // ---- suspend, the engine gone too, resume
    const saved = json<VmRecord>(ok(await b(['vm', 'stop', 'src', '--save', '--json'], 120_000), 'stop --save'), 's');
    assert.is(saved.state, 'stopped');
    assert.ok(saved.suspended && saved.suspended.sizeBytes > 0, 'saved state recorded');
    assert.is(saved.suspended.stamp.backend, 'qemu');
    assert.match(saved.suspended.stamp.version, /^\d+\.\d+\.\d+$/, 'the running QEMU says its version');
    assert.match(saved.suspended.stamp.format ?? '', /^microvm/, 'the stream names its machine type');
    assert.not.ok(alive(vm.pid!), 'QEMU ended');
    assert.match(ok(await b(['vm', 'ls']), 'vm ls').stdout, /src\s+suspended/);
    ok(await b(['engine', 'stop']), 'engine stop');
    // What a host reboot leaves: no engine, no bridge, no TAP, no runtime dir (the lease is stored).
    const links = ok(await ns.run(['ip', '-o', 'link', 'show', 'type', 'bridge']), 'bridges').stdout;
    for (const br of links.matchAll(/^\d+: ([^:@]+)/gm)) ok(await ns.run(['ip', 'link', 'del', br[1]!]), 'del bridge');
    rmSync(paths.runtimeDir, { recursive: true, force: true });
    const boots = readOr(log).split('Linux version').length;
    const back = json<VmRecord>(ok(await b(['vm', 'start', 'src', '--json'], 90_000), 'resume'), 'resume');
    assert.is(back.state, 'running');
    assert.equal([back.ip, back.mac], [vm.ip, vm.mac], 'same IP and MAC');
    assert.is(back.suspended, null);
    assert.is(back.lastError, null, 'resumed, not booted cold');
    const after = ok(await ssh('src', `cat /tmp/mark; kill -0 ${guestPid} && echo alive`), 'after resume').stdout;
    assert.match(after, /kept-42/, 'the file in /tmp survived');
    assert.match(after, /alive/, 'the process is where it was');
    assert.is(readOr(log).split('Linux version').length, boots, 'no boot on the console: it carried on');

    // ---- clone of the stopped source: its own IP and name while the source runs
    ok(await b(['vm', 'stop', 'src'], 60_000), 'vm stop');
    const c = json<VmRecord>(ok(await b(['vm', 'clone', 'src', 'twin', '--json'], 120_000), 'clone'), 'clone');
    assert.is.not(c.mac, vm.mac);
    const [r1, r2] = await Promise.all([
      b(['vm', 'start', 'src', '--json'], 90_000),
      b(['vm', 'start', 'twin', '--json'], 90_000),
    ]);
    const s = json<VmRecord>(ok(r1, 'start src'), 'src');
    const t = json<VmRecord>(ok(r2, 'start twin'), 'twin');
    assert.ok(t.ip && t.ip !== s.ip, `the clone has its own IP: ${t.ip} vs ${s.ip}`);
    const tlog = vmPaths(paths, t.id).consoleLog;
    await waitFor('the clone ready', () => (/BANGER_READY/.test(readOr(tlog)) ? true : null), 90_000, 100);
    await waitFor('the source ready', () => (readOr(log).split('BANGER_READY').length > 2 ? true : null), 90_000, 100);
    const dig = (
      await ns.run(['dig', '+short', '+time=2', '+tries=2', '-p', String(DNS_PORT), '@127.0.0.1', 'twin.vm'])
    ).stdout.trim();
    assert.is(dig, t.ip, 'twin.vm names the clone');
    const inside = ok(await ssh('twin', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address'), 'twin').stdout;
    assert.ok(inside.includes(`${t.ip}/`) && inside.includes(t.mac), `the clone's own address and MAC:\n${inside}`);
    const ping = ok(await ssh('src', 'ping -c1 -W3 twin.vm'), 'src pings twin.vm').stdout;
    assert.ok(ping.includes(`(${t.ip})`) && /1 packets received/.test(ping), ping);

    // ---- restores that keep the disk: a snapshot, then a change on disk after it
    ok(await b(['vm', 'snapshot', 'src', 's1'], 120_000), 'snapshot');
    ok(await ssh('src', 'echo after-snapshot > /root/marker; sync'), 'write after the snapshot');
    ok(await b(['vm', 'rm', 'twin', '--force']), 'rm twin');
    // (1) The stamp says another QEMU wrote it: refused up front, the VM runs on.
    const store = new Store(paths.dbFile);
    try {
      store.db.prepare("UPDATE snapshots SET stamp = json_set(stamp, '$.version', '6.2.0') WHERE name = 's1'").run();
    } finally {
      store.close();
    }
    const refused = await b(['vm', 'restore', 'src', 's1'], 60_000);
    assert.is.not(refused.code, 0);
    assert.match(refused.stderr, /E_SNAPSHOT_INCOMPATIBLE|written by QEMU 6\.2\.0/, refused.stderr);
    const still = await show('src');
    assert.equal([still.state, still.pid], ['running', s.pid], 'the running VM was not touched');
    // (2) The header is fine but the stream is cut: QEMU fails the load; the disk is the one from before.
    const st2 = new Store(paths.dbFile);
    try {
      st2.db
        .prepare("UPDATE snapshots SET stamp = json_set(stamp, '$.version', ?) WHERE name = 's1'")
        .run(saved.suspended!.stamp.version);
    } finally {
      st2.close();
    }
    const state = snapshotFiles(paths, vm.id, 's1').state;
    writeFileSync(state, readFileSync(state).subarray(0, 4096));
    const failed = await b(['vm', 'restore', 'src', 's1'], 120_000);
    assert.is.not(failed.code, 0, 'the load failed');
    assert.match(failed.stderr, /load-snapshot/, failed.stderr);
    const disk = vmPaths(paths, vm.id).disk;
    assert.is(await diskFile(disk, '/root/marker'), 'after-snapshot', 'the disk from before the restore is intact');
    const events = ok(await b(['engine', 'events']), 'events').stdout;
    assert.match(events, /restore of s1 failed: its own disk was put back/);
    figures.push(`suspend of a 256 MiB guest: ${saved.suspended!.sizeBytes >> 20} MiB saved (sparse memory)`);
    ok(await b(['vm', 'rm', 'src', '--force']), 'vm rm');
    ok(await b(['engine', 'stop']), 'engine stop');
  } finally {
    if (ns) await ns.destroy();
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e qemu-suspend: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    for (const f of figures) console.log(`e2e qemu-suspend: ${f}`);
  }
});

if (!skip)
  test.before(async () => {
    await run(['ip', 'netns', 'delete', `banger-susp-${process.pid}`]).catch(() => undefined);
  });

test.run();
