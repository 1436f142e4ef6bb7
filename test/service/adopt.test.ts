// Reconcile across engine deaths, with real networking in a throwaway namespace: kill -9 of the
// engine with 3 VMs running -> a new engine adopts all 3 (same VMM pids, console resumed, DNS
// answers), nothing duplicated or leaked; a VMM that died while no engine ran -> its record is
// stopped with the reason and its TAP, lease and runtime files are released.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../app/control/client.js';
import { SIM, alive, enginePids, json, runtimeEntries, simPids, svcState, until, type Svc } from './helpers.js';

interface Vm {
  id: string;
  name: string;
  state: string;
  pid: number | null;
  ip: string | null;
  tap: string | null;
  socketPath: string | null;
  lastError: string | null;
}

const NAMES = ['alpha', 'beta', 'gamma'];
const ORPHAN = '0badc0ffee00';
let s: Svc;
let enginePid = 0;
let vms: Record<string, Vm> = {};
const trace = (msg: string) => {
  if (process.env.SVC_TRACE) process.stderr.write(`${msg}\n`);
};

test.before(() => {
  s = svcState({ bridge: true });
});
test.after(async () => {
  await s.cleanup();
});

function dig(name: string): string {
  return s.sh(['dig', '@127.0.0.1', '-p', '15353', `${name}.vm`, '+short', '+time=1', '+tries=2']).trim();
}
function taps(): string[] {
  return s
    .sh(['ip', '-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => /^bgr-[0-9a-f]{6}$/.test(n))
    .sort();
}
function leases(): { ip: string; vmId: string }[] {
  const db = new Database(s.paths.dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT ip, vm_id AS vmId FROM leases ORDER BY ip').all() as { ip: string; vmId: string }[];
  } finally {
    db.close();
  }
}
async function list(): Promise<Record<string, Vm>> {
  const r = await s.banger(['vm', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  return Object.fromEntries(json<Vm[]>(r).map((v) => [v.name, v]));
}
/** Exactly the runtime files of these running VMs, plus the control socket when an engine runs. */
function expectRuntime(running: Vm[], withSocket = true): void {
  const want = [
    ...(withSocket ? ['engine.sock'] : []),
    'vms',
    ...running.flatMap((v) => [`vms/${v.id}`, `vms/${v.id}/api.sock`, `vms/${v.id}/console.in`]),
  ].sort();
  assert.equal(runtimeEntries(s.paths).sort(), want);
}
async function killEngine(): Promise<void> {
  process.kill(enginePid, 'SIGKILL');
  await until(() => !alive(enginePid), 5000, 'engine to die');
  assert.equal(enginePids(s.root), []);
}
/** Start a new engine through a CLI verb; returns its pid and how long the verb took. */
async function restartViaCli(): Promise<number> {
  const r = await s.banger(['status', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /started the engine in the background/);
  const pid = json<{ pid: number }>(r).pid;
  assert.is.not(pid, enginePid);
  // From the new engine's first line (DNS up) to its reconcile report: the adoption itself.
  const lines = readFileSync(s.paths.engineLog, 'utf8').split('\n');
  const at = (re: RegExp) =>
    Date.parse(
      lines
        .filter((l) => re.test(l))
        .pop()
        ?.slice(0, 24) ?? '',
    );
  trace(
    `engine restart via CLI: ${r.ms} ms; reconcile: ${at(/INFO reconcile /) - at(/INFO dns listening .*"port":15353/)} ms`,
  );
  enginePid = pid;
  return r.ms;
}

test('three VMs with TAPs and leases run under a detached engine; DNS answers their names', async () => {
  const d = await s.banger(['--detach']);
  assert.is(d.code, 0, d.stderr);
  enginePid = Number(/pid (\d+)/.exec(d.stdout)![1]);
  const created = await Promise.all(
    NAMES.map((n) => s.banger(['vm', 'create', n, '--disk', '64M', '--start', '--json'])),
  );
  for (const c of created) assert.is(c.code, 0, c.stderr);
  vms = await list();
  for (const n of NAMES) {
    assert.is(vms[n].state, 'running');
    assert.ok(vms[n].ip && vms[n].tap && vms[n].pid);
    assert.is(dig(n), vms[n].ip);
  }
  assert.is(new Set(NAMES.map((n) => vms[n].ip)).size, 3);
  assert.equal(simPids(s.root).sort(), NAMES.map((n) => vms[n].pid!).sort());
  assert.equal(taps(), NAMES.map((n) => vms[n].tap!).sort());
});

test('kill -9 of the engine: a new engine adopts all 3, DNS answers, nothing duplicated or leaked', async () => {
  await killEngine();
  for (const n of NAMES) assert.ok(alive(vms[n].pid!), `${n}'s VMM outlives the engine`);
  const ms = await restartViaCli();
  assert.ok(ms < 15_000);
  const log = readFileSync(s.paths.engineLog, 'utf8');
  const rec = [...log.matchAll(/INFO reconcile (\{.*\})/g)].pop();
  assert.ok(rec, 'the new engine logged its reconcile');
  assert.equal(JSON.parse(rec![1]).adopted.sort(), NAMES);

  const now = await list();
  for (const n of NAMES) {
    assert.is(now[n].state, 'running');
    assert.is(now[n].pid, vms[n].pid, `${n} adopted with the same VMM pid`);
    assert.is(now[n].socketPath, vms[n].socketPath);
    assert.is(now[n].ip, vms[n].ip);
    assert.is(dig(n), vms[n].ip, `${n}.vm answers after adoption`);
  }
  // Nothing duplicated: one VMM, one TAP, one lease per VM; one engine; the same runtime files.
  assert.equal(simPids(s.root).sort(), NAMES.map((n) => vms[n].pid!).sort());
  assert.equal(enginePids(s.root), [enginePid]);
  assert.equal(taps(), NAMES.map((n) => vms[n].tap!).sort());
  assert.equal(
    leases()
      .map((l) => l.ip)
      .sort(),
    NAMES.map((n) => vms[n].ip!).sort(),
  );
  expectRuntime(NAMES.map((n) => vms[n]));
  const st = json<{ dns: { records: number }; vms: { running: number } }>(await s.banger(['status', '--json']));
  assert.is(st.dns.records, 3);
  assert.is(st.vms.running, 3);

  // The console is resumed: input reaches the adopted VMM and its output reaches the tail.
  const c = await ControlClient.connect(s.paths.controlSocket);
  try {
    await c.sendConsole('alpha', 'echo resumed-after-adopt\n');
    await until(
      async () => (await c.consoleTail('alpha', 4096)).toString().includes('resumed-after-adopt\r\n'),
      5000,
      'console echo',
    );
  } finally {
    await c.close();
  }

  // Reconcile on demand is idempotent: nothing more to adopt, stop or sweep.
  const again = json<{ adopted: string[]; stopped: string[]; orphansRemoved: string[] }>(
    await s.banger(['engine', 'reconcile', '--json']),
  );
  assert.equal(again, { adopted: [], stopped: [], orphansRemoved: [] });
});

test('a VMM that died while the engine was down: stopped with its reason, TAP, lease and socket released; orphans swept', async () => {
  await killEngine();
  const g = vms.gamma;
  process.kill(g.pid!, 'SIGKILL');
  await until(() => !alive(g.pid!), 5000, 'gamma VMM to die');
  // Leftovers of a VM no record knows: a TAP, a runtime dir with a socket and a FIFO, and a VMM.
  const orphanDir = join(s.paths.runtimeDir, 'vms', ORPHAN);
  mkdirSync(orphanDir, { recursive: true });
  s.sh(['ip', 'tuntap', 'add', 'dev', `bgr-${ORPHAN.slice(0, 6)}`, 'mode', 'tap']);
  // A crash leftover sits on our bridge (untagged TAPs elsewhere may be another instance's).
  s.sh(['ip', 'link', 'set', 'dev', `bgr-${ORPHAN.slice(0, 6)}`, 'master', 'bgrsvc0']);
  s.sh(['mkfifo', join(orphanDir, 'console.in')]);
  const orphan = spawn(SIM, ['--api-sock', join(orphanDir, 'api.sock'), '--id', ORPHAN], {
    detached: true,
    stdio: 'ignore',
  });
  orphan.unref();
  await until(() => existsSync(join(orphanDir, 'api.sock')), 5000, 'orphan VMM socket');
  await restartViaCli();

  const rec = JSON.parse([...readFileSync(s.paths.engineLog, 'utf8').matchAll(/INFO reconcile (\{.*\})/g)].pop()![1]);
  assert.equal(rec.adopted.sort(), ['alpha', 'beta']);
  assert.equal(rec.stopped, ['gamma']);
  for (const o of [`process ${orphan.pid}`, `tap bgr-${ORPHAN.slice(0, 6)}`, `runtime ${ORPHAN}`])
    assert.ok(rec.orphansRemoved.includes(o), o);
  await until(() => !alive(orphan.pid!), 5000, 'orphan VMM to be killed');

  const now = await list();
  assert.is(now.gamma.state, 'stopped');
  assert.match(now.gamma.lastError ?? '', `VMM process (pid ${g.pid}) was gone when the engine came back`);
  assert.equal([now.gamma.pid, now.gamma.tap, now.gamma.socketPath, now.gamma.ip], [null, null, null, null]);
  for (const n of ['alpha', 'beta']) {
    assert.is(now[n].state, 'running');
    assert.is(now[n].pid, vms[n].pid);
    assert.is(dig(n), vms[n].ip);
  }
  assert.is(dig('gamma'), '', 'no DNS record for a VM that is not running');
  assert.equal(taps(), [vms.alpha.tap!, vms.beta.tap!].sort(), "gamma's TAP was removed");
  assert.equal(
    leases()
      .map((l) => l.vmId)
      .sort(),
    [vms.alpha.id, vms.beta.id].sort(),
    "gamma's lease was released",
  );
  expectRuntime([vms.alpha, vms.beta]);
  assert.equal(simPids(s.root).sort(), [vms.alpha.pid!, vms.beta.pid!].sort());
  const ev = json<{ subject: string; message: string }[]>(await s.banger(['engine', 'events', '--json']));
  assert.ok(
    ev.some((e) => e.subject === 'gamma' && /running -> stopped: process gone/.test(e.message)),
    'the change is in the event log',
  );

  // The freed VM starts again cleanly (fresh TAP, a lease, a new VMM).
  const st = await s.banger(['vm', 'start', 'gamma', '--json']);
  assert.is(st.code, 0, st.stderr);
  const g2 = json<Vm>(st);
  assert.is(g2.state, 'running');
  assert.is(dig('gamma'), g2.ip);
  vms.gamma = g2;
});

test('stop and remove everything: no VMM, TAP, lease, record, socket or FIFO is left', async () => {
  await Promise.all(
    NAMES.map(async (n) => {
      const r = await s.banger(['vm', 'stop', n]);
      assert.is(r.code, 0, r.stderr);
    }),
  );
  for (const n of NAMES) {
    const r = await s.banger(['vm', 'rm', n]);
    assert.is(r.code, 0, r.stderr);
  }
  assert.equal(simPids(s.root), []);
  assert.equal(taps(), []);
  assert.equal(leases(), []);
  expectRuntime([]);
  for (const n of NAMES) assert.is(dig(n), '');
  const stop = await s.banger(['engine', 'stop', '--purge']);
  assert.is(stop.code, 0, stop.stderr);
  await until(() => enginePids(s.root).length === 0, 5000, 'engine to exit');
  assert.equal(runtimeEntries(s.paths), ['vms']);
  assert.not.match(s.sh(['ip', '-o', 'link', 'show']), 'bgrsvc0', 'the bridge went with --purge');
});

test.run();
