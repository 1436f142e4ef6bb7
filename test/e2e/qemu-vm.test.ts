// test-run: group guest (boots a QEMU guest under TCG: one guest at a time, beside the unit files, so each keeps a core)
// End to end, with nothing faked: the real CLI builds the busybox image and fetches Debian's
// cloud kernel (in the root namespace: apt needs the registry), then, inside a throwaway
// network namespace, boots two QEMU microvm guests through the engine, resolves NAME.vm with
// dig, SSHes in with banger's key, has VM2 reach VM1 by name through the gateway DNS, kills
// the engine with SIGKILL and sees the VM adopted, stops it with Ctrl-Alt-Del (QEMU exits 0),
// deletes both and checks that no process, TAP, socket, lease, disk or DNS record is left.
// Runs whenever qemu-system-x86_64 is installed and we are root (CI: both).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { DoctorReport, EngineStatus, VmRecord } from '../../app/contract/api.js';
import { alive, banger, cmdlineOf, json, killByEnv, Netns, readOr, run, waitFor, ok } from './harness.js';
import { testCacheDir } from '../helpers/cache.js';

const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['dig', 'dnsutils'],
  ['ssh', 'openssh-client'],
  ['ip', 'iproute2'],
  ['setsid', 'util-linux'],
  ['apt-get', 'apt'],
]
  .filter(([bin]) => !which(bin, `${process.env.PATH}:/usr/sbin:/sbin`))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const skip = firstReason(missingReason(missing), NEEDS_ROOT);
const e2e = runIf(test, skip);

const DNS_PORT = 10053; // inside the namespace: its loopback is ours alone
const timings: [string, number][] = [];
const t0 = Date.now();
let last = t0;
function lap(what: string): void {
  const now = Date.now();
  timings.push([what, now - last]);
  last = now;
}

// eslint-disable-next-line max-lines-per-function -- long before the lint existed; split when next touched
e2e('a real guest end to end: build, fetch, boot, DNS, SSH, VM-to-VM, adopt, graceful stop, delete', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-e2e-'));
  const cacheDir = testCacheDir();
  const base: Record<string, string> = {
    BANGER_STATE_DIR: join(root, 'state'),
    BANGER_CONFIG_DIR: join(root, 'config'),
    BANGER_RUNTIME_DIR: join(root, 'run'),
    BANGER_CACHE_DIR: cacheDir,
    // A fixed build id: a file edited while this runs must not trigger an engine handover.
    BANGER_BUILD_ID: `e2e-${process.pid}`,
    // No Firecracker: the default backend must come out as qemu, and doctor must say why.
    FIRECRACKER_BIN: join(root, 'no-firecracker'),
    BANGER_BACKEND: 'auto',
    BANGER_STOP_TIMEOUT_MS: '20000',
  };
  const paths = resolvePaths(base);
  let ns: Netns | null = null;
  try {
    // ---- phase 1, root namespace, no host network: artifacts (apt downloads, cached)
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    ok(await banger(null, ['image', 'build', 'bb', '--from', 'busybox'], build, 180_000), 'image build');
    lap('image build');
    ok(await banger(null, ['kernel', 'fetch', 'deb'], build, 300_000), 'kernel fetch');
    lap('kernel fetch');
    const kernels = json<{ name: string; initrdPath: string | null; source: string }[]>(
      ok(await banger(null, ['kernel', 'ls', '--json'], build), 'kernel ls'),
      'kernel ls',
    );
    assert.is(kernels.length, 1);
    assert.match(kernels[0].source, /^debian:linux-image-.*-cloud-amd64$/);
    assert.ok(kernels[0].initrdPath && existsSync(kernels[0].initrdPath), 'the cloud kernel comes with an initramfs');
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');

    // ---- phase 2, inside a throwaway namespace: bridge, TAPs, guests, DNS on the gateway
    ns = await Netns.create(`banger-e2e-${process.pid}`);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: `127.0.0.1:${DNS_PORT}` };
    const b = (args: string[], timeoutMs?: number) => banger(ns, args, env, timeoutMs);

    const doctor = json<DoctorReport>(ok(await b(['doctor', '--json']), 'doctor'), 'doctor');
    assert.is(doctor.defaultBackend, 'qemu', 'no firecracker binary: the default backend is qemu');
    const why = doctor.checks.find((c) => c.name === 'default backend');
    assert.ok(
      why && /qemu/.test(why.detail) && /firecracker/i.test(why.detail),
      `doctor says which backend and why: ${JSON.stringify(why)}`,
    );

    const vm1 = json<VmRecord>(
      ok(await b(['vm', 'create', 'vm1', '--backend', 'qemu', '--json']), 'vm create vm1'),
      'vm create',
    );
    const vm2 = json<VmRecord>(ok(await b(['vm', 'create', 'vm2', '--json']), 'vm create vm2'), 'vm create');
    assert.is(vm1.backend, 'qemu');
    assert.is(vm2.backend, 'qemu', 'the default backend applies when --backend is not given');
    lap('create 2 VMs');

    // Both boot at once: VM2 must reach VM1 by name while both run.
    const [s1, s2] = await Promise.all([b(['vm', 'start', 'vm1', '--json']), b(['vm', 'start', 'vm2', '--json'])]);
    const r1 = json<VmRecord>(ok(s1, 'vm start vm1'), 'vm start');
    const r2 = json<VmRecord>(ok(s2, 'vm start vm2'), 'vm start');
    for (const r of [r1, r2]) {
      assert.is(r.state, 'running');
      assert.ok(r.pid && alive(r.pid), `${r.name}: QEMU pid ${r.pid} is alive`);
      assert.match(cmdlineOf(r.pid!), new RegExp(`qemu-system-x86_64 .*-name banger-${r.id}\\b.*-M microvm`));
      assert.match(r.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    }
    assert.is.not(r1.ip, r2.ip);
    lap('start 2 VMs');
    const consoleLog = (vm: VmRecord) => vmPaths(paths, vm.id).consoleLog;
    for (const r of [r1, r2]) {
      const line = await waitFor(
        `${r.name}'s BANGER_READY on the console`,
        () => {
          const text = readOr(consoleLog(r));
          if (/Kernel panic|initramfs: (no root|failed)/.test(text))
            throw new Error(`${r.name} failed to boot:\n${text.slice(-2000)}`);
          return /BANGER_READY (\S+)/.exec(text)?.[0] ?? null;
        },
        90_000,
        200,
      );
      assert.is(line, `BANGER_READY ${r.ip}`, 'the guest configured the address the engine leased');
      assert.not.match(readOr(consoleLog(r)), /init\.d\/rcS: .*(not found|No such file)/, 'the boot script runs clean');
    }
    lap('boot to marker (both)');

    // NAME.vm through banger's DNS server.
    const dig = async (name: string) =>
      (
        await ns!.run(['dig', '+short', '+time=2', '+tries=2', '-p', String(DNS_PORT), '@127.0.0.1', name])
      ).stdout.trim();
    assert.is(await dig('vm1.vm'), r1.ip);
    assert.is(await dig('vm2.vm'), r2.ip);

    // SSH with banger's key, non-interactive.
    const ssh = (name: string, cmd: string) => b(['vm', 'ssh', name, '--', cmd], 30_000);
    const hn = ok(await ssh('vm1', 'hostname; ip -4 -o addr show dev eth0; df -k / | tail -1'), 'vm ssh vm1');
    assert.match(hn.stdout, /^vm1\n/);
    assert.ok(hn.stdout.includes(`inet ${r1.ip}/`), hn.stdout);
    // The VM's disk is its own copy, grown to the VM's size (1 GiB default) from a smaller image.
    const rootKb = Number(/\n\S+\s+(\d+)\s+\d+\s+\d+\s+\d+%\s+\/\s*$/.exec(hn.stdout)?.[1]);
    assert.ok(rootKb > 900 * 1024, `root filesystem resized to the disk size: ${rootKb} KiB\n${hn.stdout}`);
    // Outbound NAT for the subnet, in banger's own nftables table.
    const nft = (await ns.run(['nft', 'list', 'table', 'inet', 'banger_banger0'])).stdout;
    assert.match(
      nft,
      new RegExp(`ip saddr ${r1.ip!.replace(/\.\d+$/, '.0').replace(/\./g, '\\.')}/24 oifname != "banger0" masquerade`),
    );
    lap('dig + ssh');

    // VM2 reaches VM1 by name: the guest resolver is the gateway listener of banger's DNS.
    // (-type=a: busybox nslookup sends A and AAAA with one query id when the guest clock is
    // coarse, then drops the second answer and waits 5 s; ping resolves through libc.)
    const ping = ok(
      await ssh('vm2', 'cat /etc/resolv.conf; nslookup -type=a vm1.vm; ping -c1 -W3 vm1.vm'),
      'vm2 -> vm1.vm',
    );
    const gateway = r1.ip!.replace(/\.\d+$/, '.1');
    assert.ok(ping.stdout.includes(`nameserver ${gateway}`), `resolv.conf points at the gateway:\n${ping.stdout}`);
    assert.ok(ping.stdout.includes(`Address: ${r1.ip}`), ping.stdout);
    assert.ok(ping.stdout.includes(`PING vm1.vm (${r1.ip})`), ping.stdout);
    assert.match(ping.stdout, /1 packets received/);
    // The usual tools resolve names too: wget (busybox-static's glibc resolves by itself, no
    // NSS modules) from VM2 to an httpd on VM1 by name; localhost and the VM's own name from
    // /etc/hosts. (`timeout`, not `wget -T`: Debian's busybox 1.35 crashes on -T.)
    ok(
      await ssh('vm1', 'mkdir -p /tmp/www && echo hello-from-vm1 > /tmp/www/index.html && httpd -p 8080 -h /tmp/www'),
      'httpd on vm1',
    );
    const wget = ok(
      await ssh('vm2', 'timeout 10 wget -q -O- http://vm1.vm:8080/ && ping -c1 -W3 localhost && ping -c1 -W3 vm2'),
      'vm2: wget http://vm1.vm:8080/, ping localhost, ping vm2',
    );
    assert.match(wget.stdout, /^hello-from-vm1$/m);
    assert.match(wget.stdout, /PING localhost \(127\.0\.0\.1\)/);
    assert.match(wget.stdout, /PING vm2 \(127\.0\.1\.1\)/);
    const guests = json<EngineStatus>(ok(await b(['status', '--json']), 'status'), 'status').dns.guests;
    assert.equal(guests, { via: 'gateway', servers: [gateway] }, 'status: guests use the gateway listener');
    lap('vm2 -> vm1.vm');

    // VM2 stops gracefully while the engine is its parent: QEMU's own exit status.
    const st2 = json<VmRecord>(ok(await b(['vm', 'stop', 'vm2', '--json'], 60_000), 'vm stop vm2'), 'vm stop');
    assert.is(st2.state, 'stopped');
    assert.is(st2.exitCode, 0, 'Ctrl-Alt-Del -> guest reboot -> QEMU -no-reboot exits 0');
    assert.not.ok(alive(r2.pid!), 'vm2 QEMU is gone');
    assert.match(readOr(consoleLog(r2)), /reboot: (Restarting system|machine restart)/);
    assert.match(
      readOr(paths.engineLog),
      /vm vm2: stopping -> stopped .*stopped \(graceful, exit 0\)/,
      'stopped by Ctrl-Alt-Del, not quit/SIGTERM',
    );
    lap('graceful stop vm2');

    // The engine dies hard; QEMU does not. The next CLI call starts a new engine that adopts it.
    const status = json<EngineStatus>(ok(await b(['status', '--json']), 'status'), 'status');
    process.kill(status.pid, 'SIGKILL');
    await waitFor('old engine to die', () => (alive(status.pid) ? null : true), 5000);
    // ...and to be reaped: the engine lock counts a zombie as a live holder, and the CLI then
    // waits 10 s for it (init reaps orphans lazily on some hosts). Bounded, then go on anyway.
    await waitFor('old engine to be reaped', () => (existsSync(`/proc/${status.pid}`) ? null : true), 10_000).catch(
      () => undefined,
    );
    assert.ok(alive(r1.pid!), 'QEMU outlives a SIGKILLed engine');
    const after = json<VmRecord>(ok(await b(['vm', 'show', 'vm1', '--json']), 'vm show after restart'), 'vm show');
    const status2 = json<EngineStatus>(ok(await b(['status', '--json']), 'status'), 'status');
    assert.is.not(status2.pid, status.pid, 'a new engine');
    assert.is(after.state, 'running');
    assert.is(after.pid, r1.pid, 'adopted the same QEMU process');
    assert.match(readOr(paths.engineLog), /reconcile .*"adopted":\["vm1"\]/);
    lap('kill -9 engine, new engine adopts');
    assert.is(await dig('vm1.vm'), r1.ip, 'DNS rebuilt from what runs');
    assert.is(await dig('vm2.vm'), '', 'a stopped VM has no record');
    // The adopted guest still answers, and the gateway listener came back with the new engine.
    const again = ok(await ssh('vm1', 'nslookup -type=a vm1.vm'), 'ssh after adoption');
    assert.ok(again.stdout.includes(`Address: ${r1.ip}`), again.stdout);
    lap('DNS + ssh after adoption');

    // Graceful stop of the adopted VM: not our child, so the exit status comes from QMP.
    const st1 = json<VmRecord>(ok(await b(['vm', 'stop', 'vm1', '--json'], 60_000), 'vm stop vm1'), 'vm stop');
    assert.is(st1.state, 'stopped');
    assert.is(st1.exitCode, 0, 'adopted QEMU exits 0 after Ctrl-Alt-Del');
    assert.not.ok(alive(r1.pid!), 'vm1 QEMU is gone');
    assert.match(
      readOr(paths.engineLog),
      /vm vm1: stopping -> stopped .*stopped \(graceful, exit 0\)/,
      'stopped by Ctrl-Alt-Del, not quit/SIGTERM',
    );
    lap('graceful stop vm1 (adopted)');

    ok(await b(['vm', 'rm', 'vm1']), 'vm rm vm1');
    ok(await b(['vm', 'rm', 'vm2']), 'vm rm vm2');
    lap('delete 2 VMs');
    assert.equal(json<VmRecord[]>(ok(await b(['vm', 'ls', '--json']), 'vm ls'), 'vm ls'), []);
    assert.equal(json<unknown[]>(ok(await b(['dns', 'ls', '--json']), 'dns ls'), 'dns ls'), []);
    assert.is(await dig('vm1.vm'), '');

    // Nothing left: processes, TAPs, sockets/FIFOs, disks, leases.
    const left = (await ns.pids()).map((p) => cmdlineOf(p)).filter((c) => /qemu-system|ssh /.test(c));
    assert.equal(left, [], 'no QEMU or ssh process left in the namespace');
    const links = (await ns.run(['ip', '-br', 'link'])).stdout;
    assert.not.match(links, /bgr-/, `no TAP left:\n${links}`);
    const runtimeVms = join(paths.runtimeDir, 'vms');
    assert.equal(existsSync(runtimeVms) ? readdirSync(runtimeVms) : [], [], 'no runtime dir (sockets, FIFOs) left');
    for (const r of [r1, r2]) assert.not.ok(existsSync(vmPaths(paths, r.id).dir), `${r.name}: disk and logs deleted`);
    lap('leak checks');
    ok(await b(['engine', 'stop']), 'engine stop');
    lap('engine stop');
    const db = new Database(paths.dbFile, { readonly: true });
    try {
      assert.is((db.prepare('SELECT COUNT(*) AS n FROM leases').get() as { n: number }).n, 0, 'no lease left');
    } finally {
      db.close();
    }
  } finally {
    if (ns) await ns.destroy();
    // An engine left behind by a failed step (phase 1 runs outside the namespace).
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e qemu-vm: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    const total = Date.now() - t0;
    console.log(
      `e2e qemu-vm: ${(total / 1000).toFixed(1)} s total; ${timings.map(([w, ms]) => `${w} ${(ms / 1000).toFixed(1)}s`).join(', ')}`,
    );
  }
});

// A namespace left by an earlier crashed run with this very pid would make `ip netns add` fail.
if (!skip)
  test.before(async () => {
    await run(['ip', 'netns', 'delete', `banger-e2e-${process.pid}`]).catch(() => undefined);
  });

test.run();
