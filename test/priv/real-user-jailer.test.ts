// test-run: group host-users (each adds a host user, its sudoers drop-in and entry point: useradd/visudo take host-wide locks)
// Firecracker under its jailer for a real user: `setup sudoers --apply --jailer PATH
// --jail-base DIR` fixes a root-owned jailer (test/fixtures/jailer-sim), the Firecracker
// binary (a root-owned copy of the simulator) and a root-only chroot base in the user's
// policy; the user's engine launches through the entry point's `jailer` verb, so the VMM runs
// as the user inside a jail the user cannot redirect; start, stop (jail-rm), restart, a killed
// engine's adoption and rm work and leave no jail. The verbs refuse any other jailer, binary,
// uid, gid, base, id, flag or path, and change nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { EngineStatus, VmRecord } from '../../app/contract/api.js';
import { runIf } from '../helpers/skip.js';
import { pidAlive } from '../../app/base/pid.js';
import { vmPaths } from '../../app/base/paths.js';
import { ROOT } from '../service/helpers.js';
import { kvmStandIn, rootSimCopy, simGuestFiles, skipReason, TestUser, uidOf, type Result } from './user-fixture.js';

const BRIDGE = 'bangertj0';
const SUBNET = '172.31.94.0/24';
const reason = skipReason();
interface Ctx {
  u: TestUser | null;
  fc: string;
  jailer: string;
  base: string;
}
const t = suite<Ctx>('real user, Firecracker under the jailer', { u: null, fc: '', jailer: '', base: '' });

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const json = <T>(r: Result, what: string): T => JSON.parse(ok(r, what).stdout) as T;

t.before((c) => {
  if (reason) return;
  const u = new TestUser({
    bridge: BRIDGE,
    subnet: SUBNET,
    dnsAddr: '127.0.0.1:15356',
    defaultBackend: 'firecracker',
    firecrackerJailer: 'always',
    stopTimeoutMs: 2000,
  });
  c.u = u;
  c.fc = rootSimCopy(`${u.privDir}-fc`);
  c.jailer = join(`${u.privDir}-fc`, 'jailer');
  execFileSync('install', ['-o', 'root', '-g', 'root', '-m', '0755', join(ROOT, 'test/fixtures/jailer-sim'), c.jailer]);
  c.base = `${u.privDir}-jail`;
  u.updateConfig({ kvmPath: kvmStandIn(u), firecrackerBin: c.fc });
  simGuestFiles(u);
});

t.after((c) => {
  if (!c.u) return;
  c.u.cleanup();
  for (const d of [`${c.u.privDir}-fc`, c.base]) rmSync(d, { recursive: true, force: true });
});

const it = runIf(t as never, reason) as unknown as (name: string, fn: (c: Ctx) => Promise<void>) => void;
const jails = (c: Ctx) => {
  const d = join(c.base, 'firecracker');
  return existsSync(d) ? readdirSync(d).sort() : [];
};

it('setup sudoers --apply --jailer --jail-base: the policy names the jailer, the binary and the base', async (c) => {
  const u = c.u!;
  ok(await u.banger(['kernel', 'add', 'k', join(u.scratch, 'vmlinux')]), 'kernel add');
  ok(await u.banger(['image', 'import', 'img', join(u.scratch, 'rootfs.ext4')]), 'image import');
  const bad = await u.setup('--apply', ['--jailer', c.jailer, '--jail-base', join(u.home, 'jail')]);
  assert.is.not(bad.code, 0, 'a base the user owns is refused');
  assert.match(bad.stderr, /not root's alone/);
  ok(await u.setup('--apply', ['--jailer', c.jailer, '--jail-base', c.base]), 'apply');
  const p = JSON.parse(readFileSync(join(u.privDir, 'users', `${u.user}.json`), 'utf8'));
  assert.equal([p.jailer, p.firecracker, p.jailBase], [c.jailer, c.fc, c.base]);
  const doctor = json<{ checks: { name: string; ok: boolean; detail: string }[] }>(
    await u.banger(['doctor', '--json']),
    'doctor',
  );
  const launch = doctor.checks.find((x) => x.name === 'firecracker launch');
  assert.ok(launch?.ok && /under the jailer/.test(launch.detail), JSON.stringify(launch));
});

it('start: the VMM runs as the user in its jail; stop removes the jail; restart', async (c) => {
  const u = c.u!;
  assert.not.ok(existsSync(c.base), 'no chroot base yet: the entry point makes it');
  // A user's umask of 077 reaches the jailer through sudo: the entry point sets its own, or
  // <base>/firecracker/<id> would be root's 0700 and the engine could not reach its socket.
  const mask = process.umask(0o077);
  let created: Result;
  try {
    created = await u.banger(['vm', 'create', 'dev', '--image', 'img', '--kernel', 'k', '--start', '--json']);
  } finally {
    process.umask(mask);
  }
  const vm = json<VmRecord>(created, 'vm create --start');
  const baseSt = lstatSync(c.base);
  assert.equal([baseSt.uid, baseSt.mode & 0o777], [0, 0o755], 'the chroot base: root’s, 0755');
  assert.is(lstatSync(join(c.base, 'firecracker')).mode & 0o777, 0o755, 'the jailer’s dirs under umask 022');
  assert.is(vm.state, 'running');
  const chroot = join(c.base, 'firecracker', vm.id, 'root');
  assert.is(uidOf(vm.pid!), u.uid, 'the jailed VMM runs as the user, not root');
  assert.is(readlinkSync(`/proc/${vm.pid}/cwd`), '/', 'pivoted into the jail: cwd reads / from the host');
  const [rs, cs] = [statSync(`/proc/${vm.pid}/root/`), statSync(chroot)];
  assert.equal([rs.dev, rs.ino], [cs.dev, cs.ino], 'its root is the jail by identity');
  assert.is(vm.socketPath, join(chroot, 'api.sock'));
  assert.is(lstatSync(vm.socketPath!).uid, u.uid);
  assert.is(lstatSync(chroot).uid, u.uid, 'the chroot dir is the user’s (the jailer chowned it)');
  assert.is(lstatSync(join(c.base, 'firecracker', vm.id)).uid, 0, 'its parent is root’s: not redirectable');
  // This test's own entry point only (other suites on the host run theirs), given a moment to exit.
  const entryPoints = () =>
    readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(`${u.entry}\0`);
        } catch {
          return false;
        }
      });
  for (let i = 0; i < 100 && entryPoints().length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(entryPoints(), [], 'the entry point exited once the jailed VMM made its socket');
  const consoleLog = vmPaths(u.paths, vm.id).consoleLog;
  const deadline = Date.now() + 10_000;
  while (!/Welcome to banger/.test(readFileSync(consoleLog, 'utf8'))) {
    assert.ok(Date.now() < deadline, 'the jailed VMM’s console reaches the log');
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = json<EngineStatus>(await u.banger(['status', '--json']), 'status');
  assert.is(uidOf(status.pid), u.uid);
  ok(await u.banger(['vm', 'stop', 'dev']), 'vm stop');
  assert.equal(jails(c), [], 'the jail went (jail-rm)');
  const again = json<VmRecord>(await u.banger(['vm', 'start', 'dev', '--json']), 'vm start');
  const restarted = json<VmRecord>(await u.banger(['vm', 'restart', 'dev', '--json']), 'vm restart');
  assert.is(restarted.state, 'running');
  assert.is.not(restarted.pid, again.pid);
  assert.equal(jails(c), [restarted.id]);
});

it('a killed engine: the next one adopts the jailed VMM; rm leaves no jail', async (c) => {
  const u = c.u!;
  const before = json<VmRecord>(await u.banger(['vm', 'show', 'dev', '--json']), 'vm show');
  const status = json<EngineStatus>(await u.banger(['status', '--json']), 'status');
  process.kill(status.pid, 'SIGKILL');
  const after = json<VmRecord>(await u.banger(['vm', 'show', 'dev', '--json']), 'vm show (new engine)');
  assert.is(after.state, 'running', `adopted: ${after.lastError}`);
  assert.is(after.pid, before.pid);
  // As a crash between the jailer and the first API call leaves it: a root-owned jail, no VMM.
  execFileSync('mkdir', ['-p', join(c.base, 'firecracker', '0badc0ffee00', 'root', 'dev')]);
  const rec = json<{ orphansRemoved: string[] }>(await u.banger(['engine', 'reconcile', '--json']), 'reconcile');
  assert.ok(rec.orphansRemoved.includes('jail 0badc0ffee00'), JSON.stringify(rec));
  assert.equal(jails(c), [before.id], 'the stray jail went (jail-rm), the live one stays');
  // The entry point itself will not remove a jail a VMM is pivoted into (told by identity).
  const live = await u.entryCall(['jail-rm', join(c.base, 'firecracker', before.id)]);
  assert.is(live.code, 2, live.stderr);
  assert.match(live.stderr, new RegExp(`in use by process ${before.pid}`));
  assert.equal(jails(c), [before.id], 'jail-rm of a live jail changed nothing');
  ok(await u.banger(['vm', 'rm', 'dev', '--force']), 'vm rm --force');
  assert.not.ok(pidAlive(before.pid!), 'the VMM is gone');
  assert.equal(jails(c), []);
});

it('the jailer and jail-rm verbs refuse what is not the policy’s and change nothing', async (c) => {
  const u = c.u!;
  const id = 'abcdef012345';
  const own = (over: Record<string, string> = {}, after: string[] = ['--api-sock', '/api.sock']) => {
    const f: Record<string, string> = {
      '--id': id,
      '--exec-file': c.fc,
      '--uid': String(u.uid),
      '--gid': String(u.gid),
      '--chroot-base-dir': c.base,
      '--cgroup-version': '2',
      '--parent-cgroup': 'banger',
      ...over,
    };
    return ['jailer', c.jailer, ...Object.entries(f).flat(), '--', ...after];
  };
  const refused: string[][] = [
    ['jailer', '/usr/bin/env', '--id', id, '--', '--api-sock', '/api.sock'],
    own({ '--exec-file': '/usr/bin/node' }),
    own({ '--uid': '0' }),
    own({ '--gid': '0' }),
    own({ '--chroot-base-dir': u.home }),
    own({ '--chroot-base-dir': '/' }),
    own({ '--id': 'a;reboot' }),
    own({ '--id': '../../etc' }),
    own({ '--parent-cgroup': '..' }),
    own({ '--netns': '/proc/1/ns/net' }),
    own({ '--daemonize': 'x' }),
    own({ '--cgroup': 'pids.max=1' }),
    own({}, ['--api-sock', '/api.sock', '--id', 'x']),
    own({}, ['--api-sock', '/../etc/x']),
    own({}, ['--api-sock', '/api.sock', '--config-file', '/etc/passwd']),
    own({}, []),
    ['jail-rm', '/'],
    ['jail-rm', u.home],
    ['jail-rm', join(c.base, 'firecracker')],
    ['jail-rm', join(c.base, 'firecracker', '..', '..', 'etc')],
  ];
  for (const args of refused) {
    const r = await u.entryCall(args);
    assert.is(r.code, 2, `${args.join(' ')} is refused (exit 2): ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^banger-priv: refused: .* \[E_PRIV_REFUSED\]\n$/, args.join(' '));
  }
  assert.equal(jails(c), [], 'no jail was made');
  assert.ok(existsSync(u.home));
  // An existing jail is never reused (the jailer would chown it over).
  execFileSync('mkdir', ['-p', join(c.base, 'firecracker', id, 'root')]);
  const r = await u.entryCall(own());
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /exists/);
  ok(await u.entryCall(['jail-rm', join(c.base, 'firecracker', id)]), 'jail-rm of the user’s own jail');
  assert.equal(jails(c), []);
});

t.run();
