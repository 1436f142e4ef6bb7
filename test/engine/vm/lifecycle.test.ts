// The VM lifecycle in the engine, against the Firecracker simulator: state transitions and
// their events, boot failures at every step leaving nothing behind, stop escalation, console.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { simEngine, simPids, waitFor, type TestEngine } from '../../helpers/engine.js';
import type { EngineEvent, VmState } from '../../../app/contract/api.js';
import { vmPaths } from '../../../app/base/paths.js';
import { pidAlive as isAlive } from '../../../app/base/pid.js';

let te: TestEngine;
test.before.each(async () => {
  te = await simEngine();
});
test.after.each(async () => {
  delete process.env.SIM_FAIL;
  delete process.env.SIM_CAD_DELAY_MS;
  delete process.env.SIM_SOCKET_DELAY_MS;
  await te.close();
});

function states(events: EngineEvent[], name: string): VmState[] {
  return events.flatMap((e) => (e.type === 'vm' && e.vm.name === name ? [e.vm.state] : []));
}

test('start -> running -> stop -> stopped, every change stored and emitted; DNS follows', async () => {
  const seen: EngineEvent[] = [];
  te.engine.subscribe((e) => seen.push(e));
  const e = te.engine;
  await e.createVm({ name: 'web', vcpus: 2, memoryMib: 256 });
  const vm = await e.startVm('web');
  assert.is(vm.state, 'running');
  assert.ok(vm.pid && isAlive(vm.pid), 'the VMM runs');
  assert.ok(vm.socketPath && existsSync(vm.socketPath), 'API socket exists');
  assert.equal(simPids(vm.id).length, 1, 'exactly one VMM');
  const stopped = await e.stopVm('web');
  assert.is(stopped.state, 'stopped');
  assert.is(stopped.exitCode, 0, 'Ctrl-Alt-Del: the VMM exited 0');
  assert.not.ok(isAlive(vm.pid!));
  assert.not.ok(existsSync(vm.socketPath!), 'socket removed');
  assert.not.ok(existsSync(vmPaths(te.t.paths, vm.id).runtimeDir), 'FIFO and runtime dir removed');
  assert.equal(states(seen, 'web'), ['created', 'starting', 'running', 'stopping', 'stopped']);
  const log = (await e.events(50)).filter((x) => x.subject === 'web').map((x) => x.message);
  assert.ok(log.includes('starting -> running'), log.join('; '));
});

test('DNS record-set changes are engine events (the TUI DNS screen listens)', async () => {
  const seen: EngineEvent[] = [];
  te.engine.subscribe((e) => seen.push(e));
  await te.engine.reconcile();
  assert.ok(
    seen.some((e) => e.type === 'dns' && e.records === 0),
    JSON.stringify(seen),
  );
});

test('impossible transitions are refused with E_INVALID_STATE and change nothing', async () => {
  const e = te.engine;
  await e.createVm({ name: 'a' });
  for (const [fn, re] of [[() => e.stopVm('a'), /cannot stop VM "a": it is created/]] as const) {
    try {
      await fn();
      assert.unreachable();
    } catch (err) {
      assert.is((err as { code: string }).code, 'E_INVALID_STATE');
      assert.match((err as Error).message, re);
    }
  }
  await e.startVm('a');
  try {
    await e.startVm('a');
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'E_INVALID_STATE');
  }
  try {
    await e.removeVm('a');
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'E_INVALID_STATE');
    assert.match((err as Error).message, /--force/);
  }
  assert.is((await e.getVm('a')).state, 'running');
  const pid = (await e.getVm('a')).pid!;
  await e.removeVm('a', { force: true });
  assert.not.ok(isAlive(pid), 'rm --force killed the VMM');
  assert.is((await e.listVms()).length, 0);
  assert.not.ok(
    existsSync(join(te.t.paths.vmsDir)) && readdirSync(te.t.paths.vmsDir).length > 0,
    'VM dir and disk deleted',
  );
});

const STEPS: [string, () => void][] = [
  [
    'validate',
    () => {
      unlinkSync(te.store.getKernel('default')!.path);
    },
  ],
  // The VMM starts, then exits before its API socket exists: noticed while waiting for it.
  [
    'wait-socket',
    () => {
      process.env.SIM_FAIL = 'launch';
    },
  ],
  [
    'metrics',
    () => {
      process.env.SIM_FAIL = 'metrics';
    },
  ],
  [
    'machine-config',
    () => {
      process.env.SIM_FAIL = 'machine-config';
    },
  ],
  [
    'boot-source',
    () => {
      process.env.SIM_FAIL = 'boot-source';
    },
  ],
  [
    'drives',
    () => {
      process.env.SIM_FAIL = 'drives';
    },
  ],
  [
    'instance-start',
    () => {
      process.env.SIM_FAIL = 'instance-start';
    },
  ],
];

for (const [step, inject] of STEPS) {
  test(`a failure at boot step "${step}" leaves no process, socket or FIFO and names the step`, async () => {
    const e = te.engine;
    const vm = await e.createVm({ name: `f-${step}` });
    inject();
    try {
      await e.startVm(vm.name);
      assert.unreachable('start should fail');
    } catch (err) {
      assert.is((err as { code: string }).code, 'E_BOOT_FAILED');
      assert.match((err as Error).message, `boot step "${step}" failed`);
    }
    const after = await e.getVm(vm.name);
    assert.is(after.state, 'error');
    assert.match(after.lastError ?? '', `boot step "${step}"`);
    assert.is(after.pid, null);
    await waitFor(() => simPids(vm.id).length === 0, 'no VMM process');
    assert.not.ok(existsSync(vmPaths(te.t.paths, vm.id).runtimeDir), 'no socket, no FIFO');
    assert.is(te.store.listLeases().length, 0, 'no lease');
    delete process.env.SIM_FAIL;
  });
}

test('stop escalates: a guest that ignores Ctrl-Alt-Del gets SIGTERM after the timeout; --force is SIGKILL at once', async () => {
  const e = te.engine;
  process.env.SIM_CAD_DELAY_MS = 'never';
  await e.createVm({ name: 'stubborn' });
  await e.startVm('stubborn');
  const t0 = Date.now();
  const s = await e.stopVm('stubborn', { timeoutMs: 300 });
  assert.ok(Date.now() - t0 >= 300, 'waited for the guest first');
  assert.is(s.state, 'stopped');
  assert.is(s.exitSignal, 'SIGTERM');
  await e.startVm('stubborn');
  const t1 = Date.now();
  const f = await e.stopVm('stubborn', { force: true, timeoutMs: 5000 });
  assert.ok(Date.now() - t1 < 2000, 'force does not wait for the guest');
  assert.is(f.exitSignal, 'SIGKILL');
});

test('a VMM that dies on its own puts the VM in error with the reason, and drops its DNS record', async () => {
  const e = te.engine;
  await e.createVm({ name: 'crashy' });
  const vm = await e.startVm('crashy');
  process.kill(vm.pid!, 'SIGKILL');
  const dead = await waitFor(async () => {
    const v = await e.getVm('crashy');
    return v.state !== 'running' ? v : null;
  }, 'exit noticed');
  assert.is(dead.state, 'error');
  assert.is(dead.lastError, 'VMM exited on its own (signal SIGKILL)');
  assert.is(dead.exitSignal, 'SIGKILL');
  assert.is((await e.dnsRecords()).length, 0);
  assert.not.ok(existsSync(vmPaths(te.t.paths, vm.id).runtimeDir));
});

test('console: a subscriber gets the boot output; typed input reaches the guest and comes back', async () => {
  const e = te.engine;
  await e.createVm({ name: 'con' });
  const chunks: Buffer[] = [];
  await e.startVm('con');
  await e.subscribeConsole('con', (b) => chunks.push(b));
  const text = () => Buffer.concat([...chunks, ...[]]).toString();
  const tail = async () => (await e.consoleTail('con')).toString();
  await waitFor(async () => /login|#|\$/.test(await tail()), 'boot output in the console log');
  await e.sendConsole('con', 'echo banger-$((6*7))\n');
  await waitFor(() => text().includes('banger-42') || text().includes('banger-$((6*7))'), 'typed line comes back');
  await e.stopVm('con');
});

test('restart keeps the VM and brings it back running under a new VMM', async () => {
  const e = te.engine;
  await e.createVm({ name: 'rs' });
  const a = await e.startVm('rs');
  const b = await e.restartVm('rs');
  assert.is(b.state, 'running');
  assert.is.not(b.pid, a.pid);
  assert.not.ok(isAlive(a.pid!));
  await e.stopVm('rs');
});

test('one operation per VM: reconcile, a second start and rm --force during a slow start wait or are refused, never interleave', async () => {
  const e = te.engine;
  await e.createVm({ name: 'slow' });
  process.env.SIM_SOCKET_DELAY_MS = '400';
  const starting = e.startVm('slow');
  await waitFor(async () => (await e.getVm('slow')).state === 'starting', 'starting');
  // A second start is refused: the state is starting.
  try {
    await e.startVm('slow');
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'E_INVALID_STATE');
  }
  // Reconcile during the start must not kill the VMM or sweep its files.
  const r = await e.reconcile();
  assert.equal(r.stopped, []);
  assert.not.ok(
    r.orphansRemoved.some((x) => x.startsWith('process')),
    r.orphansRemoved.join(','),
  );
  // rm --force waits for the start to finish, then stops and deletes.
  const removing = e.removeVm('slow', { force: true });
  const vm = await starting;
  assert.is(vm.state, 'running', 'the start completed');
  await removing;
  assert.is((await e.listVms()).length, 0);
  await waitFor(() => simPids(vm.id).length === 0, 'VMM gone after rm --force');
});

test.run();
