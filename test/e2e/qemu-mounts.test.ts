// test-run: group guest (boots two QEMU guests under TCG in lane guest: their boots took 5 s on a quiet host and pass under a load of 25, well inside the 60 s per call)
// Shared folders on real QEMU busybox guests, inside a throwaway network namespace, one boot of
// two VMs: g has a read-write and a read-only folder, h none. A file written on each side is
// read on the other (owners and modes as documented); ro holds even after the guest remounts it
// read-write; h cannot mount g's folder; the folder servers hold no network socket at all and
// live in an empty network namespace (nothing for the LAN or another VM to reach); another
// local user (made with useradd) cannot reach the server's socket; the folders are back after
// a VM restart and still served after an engine restart (adoption); mount verbs on a running VM
// are E_INVALID_STATE.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { MountSpec, VmRecord } from '../../app/contract/api.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { banger, json, killByEnv, Netns, ok, qemuEnv, readOr, run, waitFor, type RunResult } from './harness.js';

const SBIN = `${process.env.PATH}:/usr/sbin:/sbin`;
const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['/usr/lib/qemu/virtiofsd', 'qemu-system-common'],
  ['ssh', 'openssh-client'],
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['unshare', 'util-linux'],
  ['useradd', 'passwd'],
  ['runuser', 'util-linux'],
  ['apt-get', 'apt'],
]
  .filter(([bin]) => !(bin.startsWith('/') ? which(bin.split('/').pop()!, '/usr/lib/qemu') : which(bin, SBIN)))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const skip = firstReason(missingReason(missing), NEEDS_ROOT);
const e2e = runIf(test, skip);
const NS = `banger-mnt-${process.pid}`;
const figures: string[] = [];

type B = (args: string[], timeoutMs?: number) => Promise<RunResult>;

function fails(r: RunResult, code: string, what: string): void {
  assert.is.not(r.code, 0, `${what}: should fail\nstdout: ${r.stdout}`);
  assert.ok(r.stderr.includes(`[${code}]`), `${what}: ${code} on stderr: ${r.stderr}`);
}

const sh = (b: B, vm: string, script: string) => b(['vm', 'exec', vm, '--', 'sh', '-c', script], 60_000);

async function ready(paths: ReturnType<typeof resolvePaths>, vm: VmRecord, since = 0): Promise<void> {
  const log = vmPaths(paths, vm.id).consoleLog;
  await waitFor(`${vm.name} ready`, () => (/BANGER_READY/.test(readOr(log).slice(since)) ? true : null), 120_000, 200);
}

/** Both directions, owners and modes (one exec: each costs a round trip under TCG). */
async function bothWays(b: B, rw: string): Promise<void> {
  writeFileSync(join(rw, 'from-host'), 'host says hi\n');
  const seen = ok(
    await sh(
      b,
      'g',
      'cat /mnt/rw/from-host && stat -c "%u %a" /mnt/rw/from-host && rm /mnt/rw/from-host && ' +
        'echo guest says hi > /mnt/rw/from-guest && chmod 640 /mnt/rw/from-guest && ' +
        'mkdir -p /mnt/rw/sub/deep && echo x > /mnt/rw/sub/deep/f',
    ),
    'guest reads and writes',
  );
  assert.is(seen.stdout, 'host says hi\n0 644\n', 'the host file, owned by root in the guest');
  assert.not.ok(readdirSync(rw).includes('from-host'), 'the guest removed a host file');
  assert.is(readFileSync(join(rw, 'from-guest'), 'utf8'), 'guest says hi\n');
  const st = statSync(join(rw, 'from-guest'));
  assert.is(st.uid, process.getuid!(), "the guest's file is the engine user's on the host");
  assert.is((st.mode & 0o777).toString(8), '640', 'with the mode the guest gave it');
  assert.is(readFileSync(join(rw, 'sub', 'deep', 'f'), 'utf8'), 'x\n');
}

async function readOnly(b: B, ro: string): Promise<void> {
  // Then root in the guest remounts it read-write: the server's view is still read-only.
  const r = ok(
    await sh(
      b,
      'g',
      'cat /mnt/ro/keep; (echo no > /mnt/ro/new) || echo W1; mount -o remount,rw /mnt/ro; ' +
        '(echo no > /mnt/ro/new) 2>/dev/null || echo W2; rm -f /mnt/ro/keep 2>/dev/null || echo RM',
    ),
    'ro checks',
  );
  assert.is(r.stdout, 'keep me\nW1\nW2\nRM\n', 'read, and every write refused, before and after a remount');
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(readdirSync(ro), ['keep'], 'nothing written or removed on the host');
  assert.is(readFileSync(join(ro, 'keep'), 'utf8'), 'keep me\n');
}

/** virtiofsd processes (the launcher's and its sandboxed child) of this test's engine. */
function servers(stateDir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      const cmd = readOr(`/proc/${p}/cmdline`).split('\0');
      return cmd[0]?.endsWith('virtiofsd') && cmd.some((a) => a.startsWith(`--socket-path=${stateDir}`));
    })
    .map(Number);
}

/** Another VM: it has no such device, so the tag does not mount. */
async function otherVm(b: B): Promise<void> {
  const other = await sh(
    b,
    'h',
    'mkdir -p /mnt/x; mount -t virtiofs m0 /mnt/x || echo REFUSED; grep -c virtiofs /proc/mounts',
  );
  assert.is(other.stdout, 'REFUSED\n0\n', 'h cannot mount g’s folder');
}

async function isolation(ns: Netns, stateDir: string, g: VmRecord): Promise<void> {
  // The LAN and other VMs: the servers hold no network socket, in a network namespace of their own.
  const pids = servers(stateDir);
  assert.ok(pids.length >= 2, `virtiofsd runs for g's two folders: ${pids.join(' ')}`);
  const testNet = readlinkSync(`/proc/${(await ns.pids())[0]}/ns/net`);
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const to = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      if (!to.startsWith('socket:')) continue;
      const inode = to.slice(8, -1);
      const inet = ['tcp', 'tcp6', 'udp', 'udp6'].some((f) => readOr(`/proc/${pid}/net/${f}`).includes(` ${inode} `));
      assert.not.ok(inet, `virtiofsd ${pid} holds an inet socket`);
    }
  }
  const child = pids.find((p) => readlinkSync(`/proc/${p}/ns/net`) !== testNet);
  assert.ok(child, 'the serving virtiofsd is in a network namespace of its own (nothing to reach it by)');
  assert.is(readOr(`/proc/${child}/net/dev`).trim().split('\n').length, 3, 'which has only lo');
  // Another local user: the socket sits in the VM's owner-only dir.
  const sock = join(vmPaths(resolvePaths({ BANGER_STATE_DIR: stateDir }), g.id).dir, 'fs-m0.sock');
  const user = `bgmnt${process.pid % 100000}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  try {
    const probe = `require('net').connect(${JSON.stringify(sock)}).on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(3)})`;
    const r = await run(['runuser', '-u', user, '--', process.execPath, '-e', probe], { timeoutMs: 10_000 });
    assert.is(r.stdout.trim(), 'EACCES', `another user cannot connect to the folder server: ${r.stdout}${r.stderr}`);
  } finally {
    execFileSync('userdel', [user]);
  }
}

async function verbs(b: B, rw: string): Promise<void> {
  const ls = json<MountSpec[]>(ok(await b(['vm', 'mount', 'ls', 'g', '--json']), 'mount ls'), 'mount ls');
  assert.equal(
    ls.map((m) => [m.tag, m.guestDir, m.readOnly]),
    [
      ['m0', '/mnt/rw', false],
      ['m1', '/mnt/ro', true],
    ],
  );
  fails(await b(['vm', 'mount', 'add', 'g', `${rw}:/mnt/other`]), 'E_INVALID_STATE', 'mount add on a running VM');
  fails(await b(['vm', 'mount', 'rm', 'g', '/mnt/rw']), 'E_INVALID_STATE', 'mount rm on a running VM');
}

e2e('shared folders on real QEMU guests', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-mnt-'));
  const base = qemuEnv(root, 'mounts');
  const paths = resolvePaths(base);
  const rw = join(root, 'rw');
  const ro = join(root, 'ro');
  mkdirSync(rw);
  mkdirSync(ro);
  writeFileSync(join(ro, 'keep'), 'keep me\n');
  let ns: Netns | null = null;
  const t0 = Date.now();
  try {
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    // One engine, both builds at once.
    ok(await banger(null, ['--detach'], build), 'build engine');
    const [img, kern] = await Promise.all([
      banger(null, ['image', 'build', 'bb', '--from', 'busybox'], build, 180_000),
      banger(null, ['kernel', 'fetch', 'deb'], build, 300_000),
    ]);
    ok(img, 'image build');
    ok(kern, 'kernel fetch');
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');
    figures.push(`image and kernel: ${Date.now() - t0} ms`);

    ns = await Netns.create(NS);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: '127.0.0.1:10055' };
    const b: B = (args, timeoutMs = 60_000) => banger(ns, args, env, timeoutMs);
    const t1 = Date.now();
    const mounts = ['--mount', `${rw}:/mnt/rw`, '--mount', `${ro}:/mnt/ro:ro`];
    const [gr, hr] = await Promise.all([
      b(['vm', 'create', 'g', '--memory', '256', ...mounts, '--start', '--json'], 90_000),
      b(['vm', 'create', 'h', '--memory', '256', '--start', '--json'], 90_000),
    ]);
    const g = json<VmRecord>(ok(gr, 'create g'), 'g');
    const h = json<VmRecord>(ok(hr, 'create h'), 'h');
    await Promise.all([ready(paths, g), ready(paths, h)]);
    figures.push(`two boots: ${Date.now() - t1} ms`);
    assert.match(readOr(vmPaths(paths, g.id).consoleLog), /banger-mounts: m1 on \/mnt\/ro \(ro\)/);

    const tc = Date.now();
    await bothWays(b, rw);
    await readOnly(b, ro);
    figures.push(`both ways and ro: ${Date.now() - tc} ms`);
    const ti = Date.now();
    await isolation(ns, paths.stateDir, g);
    await verbs(b, rw);
    figures.push(`isolation and verbs: ${Date.now() - ti} ms`);

    // A VM restart (stop, start) mounts them again, while h shows it cannot mount g's folder;
    // an engine restart leaves them served (adoption).
    const t2 = Date.now();
    const logSize = readOr(vmPaths(paths, g.id).consoleLog).length;
    const restart = async () => {
      ok(await b(['vm', 'stop', 'g', '--force'], 30_000), 'vm stop --force');
      ok(await b(['vm', 'start', 'g'], 90_000), 'vm start');
      await ready(paths, g, logSize);
    };
    await Promise.all([restart(), otherVm(b).then(async () => ok(await b(['vm', 'stop', 'h', '--force']), 'stop h'))]);
    figures.push(`restart (and h's check): ${Date.now() - t2} ms`);
    assert.is(ok(await sh(b, 'g', 'cat /mnt/rw/from-guest'), 'after restart').stdout, 'guest says hi\n');
    const te = Date.now();
    ok(await b(['engine', 'stop']), 'engine stop (VMs keep running)');
    writeFileSync(join(rw, 'after-engine'), 'still\n');
    assert.is(ok(await sh(b, 'g', 'cat /mnt/rw/after-engine'), 'after engine restart').stdout, 'still\n');
    figures.push(`engine restart: ${Date.now() - te} ms`);
    ok(await b(['vm', 'stop', 'g', '--force'], 30_000), 'vm stop g');
    await waitFor(
      'the folder servers to end with their VM',
      () => (servers(paths.stateDir).length ? null : true),
      5000,
    );
  } finally {
    if (ns) await ns.destroy();
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e qemu-mounts: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    figures.push(`total: ${Date.now() - t0} ms`);
    for (const f of figures) console.log(`e2e qemu-mounts: ${f}`);
  }
});

if (!skip)
  test.before(async () => {
    await run(['ip', 'netns', 'delete', NS]).catch(() => undefined);
  });

test.run();
