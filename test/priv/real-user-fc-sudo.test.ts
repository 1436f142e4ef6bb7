// test-run: group host-users (each adds a host user, its sudoers drop-in and entry point: useradd/visudo take host-wide locks)
// The Firecracker sudo fallback as a real user: with firecrackerSudo=always the engine (the
// user's) launches Firecracker through the privileged entry point's `firecracker` verb, which
// runs only the root-owned binary fixed by `setup sudoers --apply --firecracker PATH` (here a
// root-owned copy of the simulator). The VMM runs as root, its pid is the real VMM's (not
// sudo's, not the entry point's), its API socket is handed back to the user, stop, restart,
// a killed engine's reconcile and rm work; the verb refuses any other binary, socket, id or
// flag and changes nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, lstatSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineStatus, VmRecord } from '../../app/contract/api.js';
import { procStat, readCmdline } from '../../app/engine/firecracker/launcher.js';
import { runIf } from '../helpers/skip.js';
import { pidAlive } from '../../app/base/pid.js';
import { vmPaths } from '../../app/base/paths.js';
import { reachableSim } from '../helpers/reachable.js';

const SIM = reachableSim();
import { kvmStandIn, rootSimCopy, simGuestFiles, skipReason, TestUser, uidOf, type Result } from './user-fixture.js';

const BRIDGE = 'bangertf0';
const SUBNET = '172.31.93.0/24';
const reason = skipReason();
const t = suite<{ u: TestUser | null; fc: string }>('real user, Firecracker through the entry point', {
  u: null,
  fc: '',
});

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const json = <T>(r: Result, what: string): T => JSON.parse(ok(r, what).stdout) as T;

/** Processes of this test's entry point (not another test's: the host is shared). */
function entryProcesses(entry: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => (readCmdline(Number(e)) ?? []).slice(0, 2).some((a) => a === entry))
    .map(Number);
}

async function until(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!fn()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Live processes running this binary (argv[0] or, for the node simulator, argv[1]). */
function running(bin: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => (readCmdline(Number(e)) ?? []).slice(0, 2).includes(bin))
    .map(Number);
}

t.before((ctx) => {
  if (reason) return;
  const u = new TestUser({
    bridge: BRIDGE,
    subnet: SUBNET,
    dnsAddr: '127.0.0.1:15355',
    defaultBackend: 'firecracker',
    firecrackerSudo: 'always',
    stopTimeoutMs: 2000,
  });
  ctx.u = u;
  ctx.fc = rootSimCopy(`${u.privDir}-fc`);
  u.updateConfig({ kvmPath: kvmStandIn(u), firecrackerBin: ctx.fc });
  simGuestFiles(u);
});

t.after((ctx) => {
  if (!ctx.u) return;
  ctx.u.cleanup();
  for (const p of running(ctx.fc)) process.kill(p, 'SIGKILL');
  rmSync(`${ctx.u.privDir}-fc`, { recursive: true, force: true });
});

const it = runIf(t as never, reason) as unknown as (
  name: string,
  fn: (ctx: { u: TestUser | null; fc: string }) => Promise<void>,
) => void;

it('setup sudoers --apply --firecracker PATH fixes that binary in the policy', async ({ u, fc }) => {
  ok(await u!.banger(['kernel', 'add', 'k', join(u!.scratch, 'vmlinux')]), 'kernel add');
  ok(await u!.banger(['image', 'import', 'img', join(u!.scratch, 'rootfs.ext4')]), 'image import');
  const printed = ok(await u!.setup(null, ['--firecracker', fc]), 'print').stdout;
  assert.match(printed, /root-equivalent/);
  // Under /tmp (other-writable): whoever can replace it would be root.
  const unsafe = join(u!.scratch, 'firecracker');
  copyFileSync(SIM, unsafe);
  const bad = await u!.setup('--apply', ['--firecracker', unsafe]);
  assert.is.not(bad.code, 0, `a binary in a non-root-only dir is refused: ${bad.stderr}`);
  assert.match(bad.stderr, /not root-only/);
  assert.not.ok(existsSync(u!.entry), 'nothing was installed');
  const check = async () =>
    json<{ checks: { name: string; ok: boolean; detail: string }[] }>(
      await u!.banger(['doctor', '--json']),
      'doctor',
    ).checks.find((c) => c.name === 'firecracker launch');
  assert.not.ok((await check())?.ok, 'doctor: no entry point yet');
  ok(await u!.setup('--apply', ['--firecracker', fc]), 'apply');
  const launch = await check();
  assert.ok(launch?.ok, JSON.stringify(launch));
  assert.match(launch!.detail, /as root through the entry point/);
  const policy = JSON.parse(readFileSync(join(u!.privDir, 'users', `${u!.user}.json`), 'utf8'));
  assert.is(policy.firecracker, fc);
});

it('vm start: Firecracker runs as root under sudo and the entry point; the socket is the user’s', async ({ u, fc }) => {
  const vm = json<VmRecord>(
    await u!.banger(['vm', 'create', 'dev', '--image', 'img', '--kernel', 'k', '--start', '--json']),
    'vm create --start',
  );
  assert.is(vm.state, 'running');
  assert.is(uidOf(vm.pid!), 0, 'the VMM runs as root');
  const argv = readCmdline(vm.pid!)!;
  assert.is(argv[1], fc, `the recorded pid is the VMM itself: ${argv.join(' ')}`);
  const parent = readCmdline(procStat(vm.pid!)!.ppid)?.join(' ') ?? '';
  assert.not.match(parent, /sudo|banger-priv/, `left running by the entry point, which exited (${parent})`);
  // Given a moment to exit: it leaves as soon as the socket exists, while the engine goes on.
  for (let i = 0; i < 100 && entryProcesses(u!.entry).length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(entryProcesses(u!.entry), [], 'no entry point process stays as root beside the VMM');
  const consoleLog = vmPaths(u!.paths, vm.id).consoleLog;
  await until(() => /Welcome to banger/.test(readFileSync(consoleLog, 'utf8')), 'the console output reaches the log');
  assert.is(lstatSync(vm.socketPath!).uid, u!.uid, 'the API socket was handed back');
  const status = json<EngineStatus>(await u!.banger(['status', '--json']), 'status');
  assert.is(uidOf(status.pid), u!.uid, 'the engine runs as the user');
  const stopped = json<VmRecord>(await u!.banger(['vm', 'stop', 'dev', '--json']), 'vm stop');
  assert.is(stopped.state, 'stopped');
  assert.equal(running(fc), [], 'no VMM left after a graceful stop');
  const again = json<VmRecord>(await u!.banger(['vm', 'start', 'dev', '--json']), 'vm start');
  const restarted = json<VmRecord>(await u!.banger(['vm', 'restart', 'dev', '--json']), 'vm restart');
  assert.is(restarted.state, 'running');
  assert.is.not(restarted.pid, again.pid);
  assert.is(uidOf(restarted.pid!), 0);
});

it('a killed engine: the next one adopts the root VMM (matched through the entry point)', async ({ u }) => {
  const before = json<VmRecord>(await u!.banger(['vm', 'show', 'dev', '--json']), 'vm show');
  const status = json<EngineStatus>(await u!.banger(['status', '--json']), 'status');
  process.kill(status.pid, 'SIGKILL');
  const after = json<VmRecord>(await u!.banger(['vm', 'show', 'dev', '--json']), 'vm show (new engine)');
  assert.is(after.state, 'running', `adopted: ${after.lastError}`);
  assert.is(after.pid, before.pid);
  const again = json<EngineStatus>(await u!.banger(['status', '--json']), 'status');
  assert.is.not(again.pid, status.pid, 'a new engine');
});

it('vm rm --force kills the root VMM through the kill verb', async ({ u, fc }) => {
  const vm = json<VmRecord>(await u!.banger(['vm', 'show', 'dev', '--json']), 'vm show');
  ok(await u!.banger(['vm', 'rm', 'dev', '--force']), 'vm rm --force');
  assert.not.ok(pidAlive(vm.pid!), 'the VMM is gone');
  assert.equal(running(fc), []);
});

it('the firecracker verb refuses other binaries, sockets, ids and flags, and changes nothing', async ({ u, fc }) => {
  const dir = join(u!.paths.stateDir, 'vms');
  const sock = join(dir, 'probe.sock');
  const log = join(u!.scratch, 'x.log');
  const refused: string[][] = [
    ['firecracker', SIM, '--api-sock', sock, '--id', 'probe'],
    ['firecracker', '/usr/bin/node', '--api-sock', sock, '--id', 'probe'],
    ['firecracker', fc, '--api-sock', '/tmp/probe.sock', '--id', 'probe'],
    ['firecracker', fc, '--api-sock', `${dir}/../../../../../../etc/probe.sock`, '--id', 'probe'],
    ['firecracker', fc, '--api-sock', sock, '--id', 'a;reboot'],
    ['firecracker', fc, '--api-sock', sock, '--id', '$(id)'],
    ['firecracker', fc, '--api-sock', sock, '--id', 'probe', '--no-seccomp'],
    ['firecracker', fc, '--api-sock', sock, '--id', 'probe', '--config-file', '/etc/passwd'],
    ['firecracker', fc, '--api-sock', sock, '--id', 'probe', '--log-path', '/etc/shadow'],
    ['firecracker', fc, '--api-sock', sock, '--id', 'probe', '--log-path', log],
    ['firecracker', fc, '--api-sock', sock, '--id', 'probe', '--id', 'other'],
    ['firecracker', fc, '--id', 'probe'],
    ['firecracker', fc, '--api-sock', sock, '--id', 'probe', '--', '--no-seccomp'],
    // The debian build verb: only a new file inside the user's dirs, only plain names and URLs.
    ['debootstrap-image', 'bookworm', 'http://deb.debian.org/debian', 'udev', '/etc/probe.ext4'],
    ['debootstrap-image', 'bookworm;id', 'http://deb.debian.org/debian', 'udev', join(dir, 'x.ext4')],
    ['debootstrap-image', 'bookworm', 'file:///etc', 'udev', join(dir, 'x.ext4')],
  ];
  const shadow = readFileSync('/etc/shadow');
  for (const args of refused) {
    const r = await u!.entryCall(args);
    assert.is(r.code, 2, `${args.join(' ')} is refused (exit 2): ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^banger-priv: refused: .* \[E_PRIV_REFUSED\]\n$/, args.join(' '));
  }
  assert.not.ok(existsSync(sock), 'no socket was made');
  assert.not.ok(existsSync('/tmp/probe.sock'));
  assert.not.ok(existsSync('/etc/probe.sock'));
  assert.not.ok(existsSync('/etc/probe.ext4') || existsSync(join(dir, 'x.ext4')));
  assert.equal(running(fc), [], 'nothing was started');
  // Untouched by the entry point. Other tests on this host may add or remove users meanwhile:
  // every line is still a passwd-style entry and root's is as it was.
  const now = readFileSync('/etc/shadow', 'utf8');
  const root = shadow.toString('utf8').split('\n')[0]!;
  assert.ok(now.split('\n').includes(root), "/etc/shadow still has root's line");
  const foreign = now.split('\n').filter((l) => l && !/^[a-z_][a-z0-9_.-]*\$?:[^:\n]*:\d*:/.test(l));
  assert.equal(foreign, [], '/etc/shadow holds only user entries');
});

t.run();
