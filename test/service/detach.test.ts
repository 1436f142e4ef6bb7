// `banger --detach`, CLI verbs over the control socket, one engine per state dir, the socket's
// permissions, status, and `engine stop` with and without --stop-vms: real processes only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { alive, enginePids, json, sessionOf, simPids, svcState, until, type Svc } from './helpers.js';

interface Vm {
  name: string;
  state: string;
  pid: number | null;
  lastError: string | null;
}

let s: Svc;
let enginePid = 0;
test.before(() => {
  s = svcState();
});
test.after(async () => {
  await s.cleanup();
});

test('--detach starts the engine in its own session, prints pid and socket, exits 0', async () => {
  const r = await s.banger(['--detach']);
  assert.is(r.code, 0, r.stderr);
  const m = /banger engine started: pid (\d+), socket (\S+), log (\S+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  enginePid = Number(m![1]);
  assert.is(m![2], s.paths.controlSocket);
  assert.is(m![3], s.paths.engineLog);
  assert.ok(alive(enginePid));
  assert.is(sessionOf(enginePid), enginePid, 'the engine leads its own session');
  assert.equal(enginePids(s.root), [enginePid]);
  // Its own output goes to the log under the state dir, not to our terminal.
  await until(
    () => readFileSync(s.paths.engineLog, 'utf8').includes(`banger engine ready: pid ${enginePid}`),
    5000,
    'ready line',
  );
  assert.is(statSync(s.paths.engineLog).mode & 0o777, 0o600);
});

test('the detached engine runs with its V8 flags: one V8 worker, no TurboFan where DNS is native', () => {
  const argv = readFileSync(`/proc/${enginePid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  assert.ok(argv.includes('--v8-pool-size=1'), argv.join(' '));
  const native = existsSync(join(ROOT, 'native', 'dns-udp', 'build', 'Release', 'banger_dns_udp.node'));
  assert.is(argv.includes('--no-opt'), native && process.env.BANGER_DNS_UDP !== 'dgram', argv.join(' '));
  assert.equal(argv.slice(-2), ['engine', 'serve']);
});

test('the control socket is 0600 in a 0700 dir', () => {
  const sock = statSync(s.paths.controlSocket);
  assert.ok(sock.isSocket());
  assert.is(sock.mode & 0o777, 0o600);
  assert.is(statSync(dirname(s.paths.controlSocket)).mode & 0o777, 0o700);
});

test('a second --detach says one is running and exits 0 without starting another', async () => {
  const r = await s.banger(['--detach']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `banger engine already running: pid ${enginePid}, socket ${s.paths.controlSocket}`);
  assert.equal(enginePids(s.root), [enginePid]);
});

test('CLI verbs attach to the running engine (no new engine, nothing said on stderr)', async () => {
  const c = await s.banger(['vm', 'create', 'alpha', '--disk', '64M', '--start', '--json']);
  assert.is(c.code, 0, c.stderr);
  assert.not.match(c.stderr, /started the engine/);
  const vm = json<Vm>(c);
  assert.is(vm.state, 'running');
  assert.equal(simPids(s.root), [vm.pid!], 'the VMM the record names is the one running');
  const ls = json<Vm[]>(await s.banger(['vm', 'ls', '--json']));
  assert.equal(
    ls.map((v) => [v.name, v.state]),
    [['alpha', 'running']],
  );
  assert.equal(enginePids(s.root), [enginePid]);
});

test('status --json: pid, uptime, build, mode, socket, DNS listener, VM counts, backends', async () => {
  const st = json<{
    pid: number;
    uptimeSec: number;
    buildId: string;
    mode: string;
    controlSocket: string;
    stateDir: string;
    dns: {
      zone: string;
      records: number;
      listeners: { address: string; port: number; protocols: string[]; up: boolean }[];
    };
    vms: Record<string, number>;
    backends: { name: string; available: boolean }[];
  }>(await s.banger(['status', '--json']));
  assert.is(st.pid, enginePid);
  assert.ok(st.uptimeSec >= 0);
  assert.is(st.buildId, 'svc-test-1');
  assert.is(st.mode, 'detached');
  assert.is(st.controlSocket, s.paths.controlSocket);
  assert.is(st.stateDir, s.paths.stateDir);
  assert.is(st.dns.zone, 'vm');
  const l = st.dns.listeners[0];
  assert.is(l.address, '127.0.0.1');
  assert.ok(l.port > 0 && l.port !== 42069);
  assert.equal([...l.protocols].sort(), ['tcp', 'udp']);
  assert.ok(l.up);
  assert.is(st.vms.running, 1);
  assert.is(st.vms.total, 1);
  assert.ok(st.backends.some((b) => b.name === 'firecracker' && b.available));
  const human = await s.banger(['status']);
  assert.match(human.stdout, `engine    pid ${enginePid}`);
  assert.match(human.stdout, /vms\s+1 total: 1 running/);
});

test('a second engine on the same state dir refuses, naming the running one', async () => {
  const r = await s.banger(['engine', 'serve']);
  assert.is(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    `an engine is already running for ${s.paths.stateDir}: pid ${enginePid}, socket ${s.paths.controlSocket}`,
  );
  assert.match(r.stderr, /\[E_ENGINE_RUNNING\]/);
  assert.ok(r.ms < 4000, `refused at once, not after the handover wait (${r.ms} ms)`);
  // ... and changed nothing: the first still serves on its socket, the VM still runs.
  assert.equal(enginePids(s.root), [enginePid]);
  const st = json<{ pid: number; vms: { running: number } }>(await s.banger(['status', '--json']));
  assert.is(st.pid, enginePid);
  assert.is(st.vms.running, 1);
});

test("a second engine refuses even when it cannot reach the first one's socket (the lock decides)", async () => {
  // Another runtime dir: no socket clash, so only the state dir lock stops it.
  const r = await s.banger(['engine', 'serve'], { env: { BANGER_RUNTIME_DIR: `${s.root}/run2` } });
  assert.is(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, `an engine is already running (pid ${enginePid}) for this state dir`);
  assert.not.ok(existsSync(`${s.root}/run2/engine.sock`));
  assert.equal(enginePids(s.root), [enginePid]);
});

test('engine stop leaves VMs running; the next verb starts an engine (saying so) that adopts them', async () => {
  const vmPid = simPids(s.root)[0];
  const r = await s.banger(['engine', 'stop']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `engine (pid ${enginePid}) stopped, VMs left running`);
  await until(() => !alive(enginePid), 5000, 'old engine to exit');
  assert.not.ok(existsSync(s.paths.controlSocket), 'socket removed');
  assert.not.ok(existsSync(s.paths.engineLock), 'lock released');
  assert.ok(alive(vmPid), 'the VMM kept running');

  const ls = await s.banger(['vm', 'ls', '--json']);
  assert.is(ls.code, 0, ls.stderr);
  const m = /banger: started the engine in the background \(pid (\d+), socket (\S+)\)/.exec(ls.stderr);
  assert.ok(m, ls.stderr);
  assert.is.not(Number(m![1]), enginePid);
  enginePid = Number(m![1]);
  assert.is(m![2], s.paths.controlSocket);
  const vms = json<Vm[]>(ls);
  assert.equal(
    vms.map((v) => [v.name, v.state, v.pid]),
    [['alpha', 'running', vmPid]],
  );
  assert.equal(simPids(s.root), [vmPid]);
});

test('engine stop --stop-vms stops the VMs too', async () => {
  const vmPid = simPids(s.root)[0];
  const r = await s.banger(['engine', 'stop', '--stop-vms']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `engine (pid ${enginePid}) stopped, VMs stopped`);
  await until(() => !alive(enginePid) && !alive(vmPid), 5000, 'engine and VMM to exit');
  assert.equal(simPids(s.root), []);
  const vms = json<Vm[]>(await s.banger(['vm', 'ls', '--json']));
  assert.equal(
    vms.map((v) => [v.name, v.state, v.pid, v.lastError]),
    [['alpha', 'stopped', null, null]],
  );
  const again = await s.banger(['engine', 'stop']);
  assert.is(again.code, 0);
  await until(() => enginePids(s.root).length === 0, 5000, 'engine to exit');
  const none = await s.banger(['engine', 'stop']);
  assert.match(none.stdout, 'no engine is running');
});

test.run();
