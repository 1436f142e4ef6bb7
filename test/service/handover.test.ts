// A stale engine (another build id) hands over to a fresh one started by a front end of the
// new build: the old one stops serving and exits, the new one adopts the VMs, and the VMs are
// never touched (same VMM processes, watched the whole time, no API call that changes them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../app/control/client.js';
import { alive, enginePids, json, simPids, svcState, until, type Svc } from './helpers.js';

interface Vm {
  name: string;
  state: string;
  pid: number | null;
}

let s: Svc;
let record = '';
const OLD = { BANGER_BUILD_ID: 'build-old' };
const NEW = { BANGER_BUILD_ID: 'build-new' };
const trace = (msg: string) => {
  if (process.env.SVC_TRACE) process.stderr.write(`${msg}\n`);
};

test.before(() => {
  s = svcState();
  record = join(s.root, 'sim-requests.jsonl');
  s.env.SIM_RECORD = record; // every simulator appends each API request it serves
});
test.after(async () => {
  await s.cleanup();
});

/** Start time of a process (clock ticks since boot): a restarted VMM would have a new one. */
function startTime(pid: number): string {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return st.slice(st.lastIndexOf(')') + 2).split(' ')[19];
}
function requestsSince(offset: number): { method: string; path: string }[] {
  return readFileSync(record, 'utf8')
    .slice(offset)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

let oldPid = 0;
let vmPids: number[] = [];

test('an engine of the old build runs two VMs', async () => {
  const d = await s.banger(['--detach'], { env: OLD });
  assert.is(d.code, 0, d.stderr);
  oldPid = Number(/pid (\d+)/.exec(d.stdout)![1]);
  for (const n of ['one', 'two']) {
    const r = await s.banger(['vm', 'create', n, '--disk', '64M', '--start'], { env: OLD });
    assert.is(r.code, 0, r.stderr);
  }
  vmPids = simPids(s.root).sort();
  assert.is(vmPids.length, 2);
});

test('a CLI of a new build hands over: old engine exits, new one adopts, VMs untouched throughout', async () => {
  const starts = vmPids.map(startTime);
  const mark = readFileSync(record, 'utf8').length;
  // Watch the VMMs the whole time: a VM that blinks out even once fails the test.
  let blinks = 0;
  const watch = setInterval(() => {
    for (const p of vmPids) if (!alive(p)) blinks++;
  }, 10);
  let r;
  try {
    r = await s.banger(['vm', 'ls', '--json'], { env: NEW });
  } finally {
    clearInterval(watch);
  }
  assert.is(r.code, 0, r.stderr);
  trace(`handover via CLI (old engine out, new engine up, vm ls answered): ${r.ms} ms`);
  assert.match(
    r.stderr,
    `the running engine (pid ${oldPid}) is build build-old, this is build-new: handing over (VMs keep running)`,
  );
  const m = /started the engine in the background \(pid (\d+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  const newPid = Number(m![1]);
  assert.is.not(newPid, oldPid);

  assert.is(blinks, 0, 'no VMM was ever missing');
  assert.equal(
    json<Vm[]>(r)
      .map((v) => [v.name, v.state, v.pid])
      .sort(),
    [
      ['one', 'running', vmPids[0]],
      ['two', 'running', vmPids[1]],
    ].sort(),
  );
  assert.equal(simPids(s.root).sort(), vmPids);
  assert.equal(vmPids.map(startTime), starts, 'the same VMM processes, not restarted ones');
  // Only reads reached the VMMs (the adoption probe): nothing reconfigured, stopped or restarted them.
  const writes = requestsSince(mark).filter((q) => q.method !== 'GET');
  assert.equal(writes, []);

  await until(() => !alive(oldPid), 5000, 'the old engine to exit');
  assert.equal(enginePids(s.root), [newPid]);
  const st = json<{ pid: number; buildId: string; vms: { running: number } }>(
    await s.banger(['status', '--json'], { env: NEW }),
  );
  assert.equal([st.pid, st.buildId, st.vms.running], [newPid, 'build-new', 2]);
  assert.match(readFileSync(s.paths.engineLog, 'utf8'), /handing over to a newer build; VMs keep running/);

  // The adopted console still takes input.
  const c = await ControlClient.connect(s.paths.controlSocket);
  try {
    await c.sendConsole('one', 'echo after-handover\n');
    await until(
      async () => (await c.consoleTail('one', 4096)).toString().includes('after-handover\r\n'),
      5000,
      'console echo',
    );
  } finally {
    await c.close();
  }
});

test('--detach of yet another build also hands over, then reports the new engine', async () => {
  const before = enginePids(s.root);
  const d = await s.banger(['--detach'], { env: { BANGER_BUILD_ID: 'build-newer' } });
  assert.is(d.code, 0, d.stderr);
  assert.match(d.stdout, /handing over \(VMs keep running\)/);
  const pid = Number(/banger engine started: pid (\d+)/.exec(d.stdout)?.[1]);
  assert.ok(pid > 0, d.stdout);
  await until(() => before.every((p) => !alive(p)), 5000, 'the previous engine to exit');
  assert.equal(enginePids(s.root), [pid]);
  assert.equal(simPids(s.root).sort(), vmPids);
  const stop = await s.banger(['engine', 'stop', '--stop-vms'], { env: { BANGER_BUILD_ID: 'build-newer' } });
  assert.is(stop.code, 0, stop.stderr);
  await until(() => simPids(s.root).length === 0 && enginePids(s.root).length === 0, 5000, 'everything to stop');
});

test.run();
