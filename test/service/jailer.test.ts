// Firecracker under its jailer, as root, end to end: real engine processes, the jailer
// stand-in (test/fixtures/jailer-sim, after docs/jailer.md) and the Firecracker simulator.
// create/start builds <state>/jail/<exec name>/<id>/root with the exec file copied in, dev
// nodes, and the VM's kernel, disk, log and metrics hard-linked (the same inodes); the VMM is
// the jailer's pid, with --id and the in-jail socket; stop removes the jail; a VMM that died
// while no engine ran, and a jail a crash left without any VMM, are cleaned by the next engine;
// rm leaves nothing. firecrackerJailer always without a jailer fails cleanly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { JAIL_ID_BASE, jailIdFor } from '../../app/engine/firecracker/jail-mode.js';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { vmPaths } from '../../app/base/paths.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { alive, enginePids, json, ROOT, SIM, svcState, until, type Svc } from './helpers.js';

const JAILER = join(ROOT, 'test', 'fixtures', 'jailer-sim');
const t = suite<{ s: Svc | null }>('firecracker under the jailer (root)', { s: null });
const it = runIf(t as never, NEEDS_ROOT) as unknown as (
  name: string,
  fn: (c: { s: Svc | null }) => Promise<void>,
) => void;

interface Vm {
  id: string;
  name: string;
  state: string;
  pid: number | null;
  socketPath: string | null;
  lastError: string | null;
}

t.before((c) => {
  if (NEEDS_ROOT) return;
  c.s = svcState({ env: { BANGER_FIRECRACKER_JAILER: 'always', BANGER_JAILER_BIN: JAILER } });
});
t.after(async (c) => {
  await c.s?.cleanup();
});

const jailsOf = (s: Svc) => join(s.paths.stateDir, 'jail', 'firecracker-sim');
const jails = (s: Svc) => (existsSync(jailsOf(s)) ? readdirSync(jailsOf(s)).sort() : []);

async function ok<T>(s: Svc, args: string[]): Promise<T> {
  const r = await s.banger([...args, '--json']);
  assert.is(r.code, 0, `banger ${args.join(' ')}: ${r.stderr}`);
  return json<T>(r);
}

it('start: the jail as docs/jailer.md lays it out, the VM’s files linked in, the VMM jailed', async ({ s }) => {
  const vm = await ok<Vm>(s!, ['vm', 'create', 'dev', '--start']);
  assert.is(vm.state, 'running', vm.lastError ?? '');
  const chroot = join(jailsOf(s!), vm.id, 'root');
  assert.is(vm.socketPath, join(chroot, 'api.sock'));
  assert.ok(statSync(vm.socketPath!).isSocket());
  assert.ok(readFileSync(join(chroot, 'firecracker-sim')).equals(readFileSync(SIM)), 'the exec file copied in');
  for (const [dev, major, minor] of [['dev/kvm', 10, 232] as const, ['dev/net/tun', 10, 200] as const]) {
    const st = statSync(join(chroot, dev));
    assert.ok(st.isCharacterDevice(), dev);
    assert.is(st.rdev, (major << 8) | minor, `${dev} ${major}:${minor}`);
    assert.is(st.mode & 0o777, 0o600);
    assert.is(st.uid, jailIdFor(vm.id), `${dev} owned by the jail uid`);
  }
  const files = vmPaths(s!.paths, vm.id);
  for (const [inJail, host] of [
    ['rootfs.ext4', files.disk],
    ['vmm.log', files.vmmLog],
    ['metrics.json', files.metrics],
    ['seed.drive', files.seed],
  ]) {
    assert.is(statSync(join(chroot, inJail)).ino, statSync(host).ino, `${inJail} is the VM's own file`);
  }
  // The seed drive is configured after the root disk, read-only (the simulated guest lists its disks).
  await until(() => /\[vdb\]/.test(readFileSync(files.consoleLog, 'utf8')), 10_000, 'the guest to list its disks');
  assert.match(readFileSync(files.consoleLog, 'utf8'), /virtio1: \[vdb\] read-only disk/);
  assert.match(readFileSync(files.vmmLog, 'utf8'), /InstanceStart|actions/, 'the jailed VMM logs into the linked log');
  // A root engine's VMM runs as the VM's own unprivileged uid:gid, never root (finding 5).
  const ids = readFileSync(`/proc/${vm.pid}/status`, 'utf8');
  const uid = jailIdFor(vm.id);
  assert.ok(uid >= JAIL_ID_BASE, 'far above login users');
  assert.match(ids, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'jailed as its own uid');
  assert.match(ids, new RegExp(`^Gid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'and gid');
  assert.match(ids, /^Groups:\s*$/m, 'no supplementary groups');
  assert.is(statSync(files.disk).uid, uid, 'its disk is its uid’s (it writes it)');
  assert.is(statSync(files.seed).uid, uid, 'its seed drive too (it opens it)');
  const argv = readFileSync(`/proc/${vm.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  assert.equal(argv.slice(1, 4), ['/firecracker-sim', '--id', vm.id], 'the exec file, with the id the jailer passes');
  assert.equal(argv.slice(-2), ['--api-sock', '/api.sock'], "firecracker's own args after the jailer's --");
  assert.ok(argv.includes('--start-time-us'));
  // Pivoted into the jail as the real jailer does: from here root and cwd read "/", and the
  // root is the jail's by identity; the jailer wrote the VMM's pid (1.7+).
  assert.is(readlinkSync(`/proc/${vm.pid}/root`), '/', 'pivoted: its root reads / from the host');
  const [rs, cs] = [statSync(`/proc/${vm.pid}/root/`), statSync(chroot)];
  assert.equal([rs.dev, rs.ino], [cs.dev, cs.ino], 'its root is the jail by identity');
  // The jailer writes the VMM's pid since 1.7 (b48f370f5); SIM_VERSION=1.5.1 runs this suite as before it.
  const pidFile = join(chroot, 'firecracker-sim.pid');
  const [maj, min] = (process.env.SIM_VERSION ?? '1.16.1').split('.').map(Number);
  if (maj > 1 || min >= 7) assert.is(readFileSync(pidFile, 'utf8'), String(vm.pid), 'firecracker.pid');
  else assert.not.ok(existsSync(pidFile), 'no pid file before 1.7');
});

it('a root umask of 077 left the kernel unreadable to the jailed uid: made readable (only read, shared)', async ({
  s,
}) => {
  await ok<Vm>(s!, ['vm', 'stop', 'dev']);
  const kernel = join(s!.root, 'vmlinux'); // the service harness's seeded kernel
  chmodSync(kernel, 0o600);
  const vm = await ok<Vm>(s!, ['vm', 'start', 'dev']);
  assert.is(vm.state, 'running', vm.lastError ?? '');
  const linked = statSync(join(jailsOf(s!), vm.id, 'root', 'vmlinux'));
  assert.is(linked.mode & 0o777, 0o644, 'the jailed VMM (its own uid) can read the kernel');
});

it('stop removes the jail; start makes a fresh one', async ({ s }) => {
  const before = await ok<Vm>(s!, ['vm', 'show', 'dev']);
  const stopped = await ok<Vm>(s!, ['vm', 'stop', 'dev']);
  assert.is(stopped.state, 'stopped');
  assert.not.ok(alive(before.pid!), 'the VMM is gone');
  assert.equal(jails(s!), [], 'no jail left');
  const again = await ok<Vm>(s!, ['vm', 'start', 'dev']);
  assert.is(again.state, 'running', again.lastError ?? '');
  assert.equal(jails(s!), [again.id]);
});

it('kill -9 of the engine: adopted; a VMM that died meanwhile and a crash’s stray jail are cleaned', async ({ s }) => {
  const vm = await ok<Vm>(s!, ['vm', 'show', 'dev']);
  const [engine] = enginePids(s!.root);
  process.kill(engine, 'SIGKILL');
  await until(() => !alive(engine), 5000, 'engine to die');
  const adopted = await ok<Vm>(s!, ['vm', 'show', 'dev']);
  assert.is(adopted.state, 'running', `adopted through its jail: ${adopted.lastError}`);
  assert.is(adopted.pid, vm.pid);
  const [engine2] = enginePids(s!.root);
  process.kill(engine2, 'SIGKILL');
  await until(() => !alive(engine2), 5000, 'engine to die');
  process.kill(vm.pid!, 'SIGKILL');
  await until(() => !alive(vm.pid!), 5000, 'VMM to die');
  // As a crash between the jailer and the first API call leaves it: a jail and no VMM.
  mkdirSync(join(jailsOf(s!), '0badc0ffee00', 'root', 'dev'), { recursive: true });
  const r = await ok<{ stopped: string[]; orphansRemoved: string[] }>(s!, ['engine', 'reconcile']);
  const after = await ok<Vm>(s!, ['vm', 'show', 'dev']);
  assert.is(after.state, 'stopped', after.lastError ?? '');
  assert.equal(jails(s!), [], `every jail removed (${JSON.stringify(r)})`);
});

it('rm leaves nothing; firecrackerJailer always without a jailer fails cleanly', async ({ s }) => {
  await ok<Vm>(s!, ['vm', 'start', 'dev']);
  const r = await s!.banger(['vm', 'rm', 'dev', '--force']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(jails(s!), []);
  await ok<Vm>(s!, ['vm', 'create', 'nojail']);
  await s!.banger(['engine', 'stop']);
  const bad = await s!.banger(['vm', 'start', 'nojail'], { env: { BANGER_JAILER_BIN: '/nonexistent/jailer' } });
  assert.is.not(bad.code, 0);
  assert.match(bad.stderr, /firecrackerJailer always: no jailer/);
  const vm = await ok<Vm>(s!, ['vm', 'show', 'nojail']);
  assert.is.not(vm.state, 'running');
  assert.is(vm.pid, null);
  assert.equal(jails(s!), []);
});

it('doctor: what a real jailer needs of this host (cgroups, a chroot base without nodev)', async ({ s }) => {
  const r = await s!.banger(['doctor', '--json']);
  const checks = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
  const base = checks.find((c) => c.name === 'jail base');
  assert.ok(base?.ok, JSON.stringify(base));
  assert.match(base!.detail, join(s!.paths.stateDir, 'jail'));
  const cg = checks.find((c) => c.name === 'jailer cgroups');
  assert.ok(cg?.ok, JSON.stringify(cg));
  assert.match(cg!.detail, /--cgroup-version [12]/);
});

t.run();
