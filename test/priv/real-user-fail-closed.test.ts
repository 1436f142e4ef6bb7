// test-run: group host-users (each adds a host user, its sudoers drop-in and entry point: useradd/visudo take host-wide locks)
// Issue 23, findings 6 and 7, and the attacks tried beside them, as a created user in a
// throwaway netns calling the entry point through sudo: a TAP whose owner cannot be read is
// not theirs; `kill` signals only a root process running the policy's Firecracker for them
// (not any process whose argv names their dir); stdin is bounded in size and time; argv in
// count; `ip-forward` turns forwarding on and puts back only what this user's banger found;
// chown-sock takes no fifo, second link, symlink or /proc path.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { runIf } from '../helpers/skip.js';
import { rootSimCopy, skipReason, TestUser, type Result } from './user-fixture.js';

const reason = skipReason();
const t = suite<{ u: TestUser | null; fc: string }>('real user fail closed', { u: null, fc: '' });
const sh = (argv: string[]) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });

function code(r: Result, want: number, what: string): Result {
  assert.is(r.code, want, `${what}: exit ${r.code} (want ${want})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const refused = (r: Result, what: string, re?: RegExp) => {
  code(r, 2, what);
  assert.match(r.stderr, /\[E_PRIV_REFUSED\]/, what);
  if (re) assert.match(r.stderr, re, what);
};

t.before(async (ctx) => {
  if (reason) return;
  ctx.u = new TestUser({ bridge: 'bangerfc0', subnet: '172.31.96.0/24' });
  code(await ctx.u.setup('--apply'), 0, 'setup sudoers --apply');
  const state = ctx.u.paths.stateDir;
  sh(['install', '-d', '-o', ctx.u.user, '-g', ctx.u.user, '-m', '0755', join(state, '..'), state]);
  sh(['chown', `${ctx.u.user}:${ctx.u.user}`, join(state, '..', '..')]);
  // The policy's root Firecracker (the sudo fallback): a root-only copy of the simulator.
  ctx.fc = rootSimCopy(join(ctx.u.privDir, 'fc'));
  const file = join(ctx.u.privDir, 'users', `${ctx.u.user}.json`);
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), firecracker: ctx.fc }));
  chmodSync(file, 0o644);
});

t.after((ctx) => ctx.u?.cleanup());

const it = runIf(t as never, reason) as unknown as (
  name: string,
  fn: (ctx: { u: TestUser | null; fc: string }) => Promise<void>,
) => void;

const linkExists = (u: TestUser, name: string) => {
  try {
    u.inNs(['ip', 'link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
};

it('finding 6: a TAP with no owner (root made it) is refused for link-del, link-up and tap-attach', async ({ u }) => {
  u!.inNs(['ip', 'tuntap', 'add', 'dev', 'bgr-0a0b0c', 'mode', 'tap']);
  refused(await u!.entryCall(['link-del', 'bgr-0a0b0c']), 'link-del', /not a TAP with an owner/);
  refused(await u!.entryCall(['link-up', 'bgr-0a0b0c']), 'link-up');
  refused(await u!.entryCall(['tap-attach', 'bgr-0a0b0c', 'banger:0123456789ab', 'bangerfc0']), 'tap-attach');
  assert.ok(linkExists(u!, 'bgr-0a0b0c'), 'the ownerless TAP is still there');
  u!.inNs(['ip', 'tuntap', 'add', 'dev', 'bgr-0d0e0f', 'mode', 'tap', 'user', String(u!.uid + 1)]);
  refused(await u!.entryCall(['link-del', 'bgr-0d0e0f']), "another uid's TAP", /belongs to uid/);
  refused(await u!.entryCall(['link-del', 'bgr-0f0f0f']), 'a missing TAP', /does not exist/);
  // The user's own TAP still goes (what the engine does).
  code(await u!.entryCall(['tap-add', 'bgr-0e0e0e', String(u!.uid)]), 0, 'tap-add');
  code(await u!.entryCall(['link-del', 'bgr-0e0e0e']), 0, "link-del of the user's TAP");
  assert.not.ok(linkExists(u!, 'bgr-0e0e0e'));
});

/** A root process (the test's), exited or not. */
const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("finding 6: kill refuses a root process whose argv merely names the user's dir; kills the root VMM", async ({
  u,
  fc,
}) => {
  const sock = join(u!.paths.stateDir, 'decoy.sock');
  const decoy = spawn('python3', ['-c', 'import time; time.sleep(120)', '--api-sock', sock], { stdio: 'ignore' });
  const vmSock = join(u!.paths.stateDir, 'vm.sock');
  const vmm = spawn(fc, ['--api-sock', vmSock, '--id', 'killme'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(vmSock); i++) await wait(25);
    assert.ok(existsSync(vmSock), 'the root VMM made its socket');
    refused(await u!.entryCall(['kill', 'TERM', String(decoy.pid)]), 'the decoy', /is not a root/);
    refused(await u!.entryCall(['kill', 'KILL', '1']), 'pid 1');
    await wait(100);
    assert.ok(alive(decoy), 'the decoy lives');
    code(await u!.entryCall(['kill', 'TERM', String(vmm.pid)]), 0, 'the root VMM');
    for (let i = 0; i < 100 && alive(vmm); i++) await wait(20);
    assert.not.ok(alive(vmm), 'the root VMM got the signal');
    // Its pid now names nothing of the user's (or nothing at all).
    refused(await u!.entryCall(['kill', 'TERM', String(vmm.pid)]), 'the exited VMM');
  } finally {
    decoy.kill('SIGKILL');
    vmm.kill('SIGKILL');
  }
});

it('finding 6: stdin is capped (the rest is never read) and time-limited; argv is capped', async ({ u }) => {
  const entry = `sudo -n -- ${u!.entry} nft-apply`;
  const big = await u!.asUser(['bash', '-c', `head -c 50000000 /dev/zero | ${entry}; echo "\${PIPESTATUS[*]}"`]);
  assert.match(big.stderr, /stdin longer than \d+ bytes \[E_PRIV_REFUSED\]/, big.stderr);
  // head got SIGPIPE (141): the entry point stopped reading at the cap.
  assert.match(big.stdout.trim(), /^141 2$/, `head, entry point: ${big.stdout}`);
  const t0 = Date.now();
  // A writer that never closes (bash does not wait for it; it is killed once sudo returns).
  const never = `exec 3< <(sleep 30 2>/dev/null); w=$!; ${entry} <&3; rc=$?; kill $w; exit $rc`;
  const slow = await u!.asUser(['bash', '-c', never], { timeoutMs: 40_000 });
  const ms = Date.now() - t0;
  refused(slow, 'stdin never closed', /stdin not closed within/);
  assert.ok(ms < 15_000, `refused after ${ms} ms, not when stdin closed (30 s)`);
  const many = Array.from({ length: 5000 }, () => 'x');
  refused(await u!.entryCall(['check', ...many]), 'a huge argv', /too many arguments/);
});

const forward = (u: TestUser) => u.inNs(['sysctl', '-n', 'net.ipv4.ip_forward']).trim();

it('finding 7: ip-forward 0 cannot turn off forwarding it did not turn on; restores what it found', async ({ u }) => {
  u!.inNs(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']); // Docker's, say
  code(await u!.entryCall(['ip-forward', '0']), 0, 'ip-forward 0 with nothing recorded');
  assert.is(forward(u!), '1', "the host's forwarding stays on");
  code(await u!.entryCall(['ip-forward', '1']), 0, 'enable (records 1)');
  code(await u!.entryCall(['ip-forward', '0']), 0, 'restore');
  assert.is(forward(u!), '1', 'restored to what banger found: on');
  u!.inNs(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  code(await u!.entryCall(['ip-forward', '1']), 0, 'enable (records 0)');
  assert.is(forward(u!), '1');
  const rec = join(u!.privDir, 'forward', u!.user);
  assert.is(lstatSync(rec).uid, 0, 'the record is root-owned');
  code(await u!.entryCall(['ip-forward', '0']), 0, 'restore');
  assert.is(forward(u!), '0', 'restored to what banger found: off');
  assert.not.ok(existsSync(rec), 'the record is dropped');
});

it('attacks on chown-sock: a fifo, a second link to root’s socket, a symlink, a /proc path', async ({ u }) => {
  const state = u!.paths.stateDir;
  const rootDir = join(u!.home, 'root-only');
  sh(['install', '-d', '-o', 'root', '-g', 'root', '-m', '0700', rootDir]);
  const rootSock = join(rootDir, 'daemon.sock');
  sh(['python3', '-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', rootSock]);
  code(await u!.asUser(['mkfifo', join(state, 'fifo.sock')]), 0, 'mkfifo');
  refused(await u!.entryCall(['chown-sock', join(state, 'fifo.sock')]), 'a fifo', /not a socket/);
  // As a host without fs.protected_hardlinks would let the user: a second link to root's socket.
  sh(['ln', rootSock, join(state, 'hard.sock')]);
  refused(await u!.entryCall(['chown-sock', join(state, 'hard.sock')]), 'a hard link', /single-link/);
  code(await u!.asUser(['ln', '-s', rootSock, join(state, 'sym.sock')]), 0, 'ln -s');
  refused(await u!.entryCall(['chown-sock', join(state, 'sym.sock')]), 'a symlink');
  refused(await u!.entryCall(['chown-sock', `/proc/self/root${rootSock}`]), 'a /proc path', /outside/);
  assert.is(lstatSync(rootSock).uid, 0, "root's socket is still root's");
});

t.run();
