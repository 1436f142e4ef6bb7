import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient, ping } from '../../app/control/client.js';
import { ControlServer } from '../../app/control/server.js';
import { BangerError } from '../../app/base/errors.js';
import type { EngineEvent } from '../../app/contract/api.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { startServer, tempDir, until } from './helpers.js';

async function expectError(p: Promise<unknown>, code: string): Promise<BangerError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, code, (err as Error).message);
    return err as BangerError;
  }
  throw new Error(`expected ${code}, call succeeded`);
}

test('hello reports protocol, build and pid; records round trip', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  try {
    assert.equal(c.hello, { protocol: 1, buildId: 'test-build', pid: process.pid, mode: 'detached' });
    const vm = await c.createVm({ name: 'dev', vcpus: 2, memoryMib: 512, start: true });
    assert.is(vm.name, 'dev');
    assert.is(vm.vcpus, 2);
    assert.equal(await c.getVm('dev'), r.engine.vms.get('dev'));
    assert.equal(
      (await c.listVms()).map((v) => v.name),
      ['dev'],
    );
    const stopped = await c.stopVm('dev', { force: true, timeoutMs: 10 });
    assert.is(stopped.state, 'stopped');
    assert.equal(r.engine.calls.find((x) => x.method === 'stopVm')?.args, ['dev', { force: true, timeoutMs: 10 }]);
    // void methods resolve to undefined, like the in-process engine
    assert.is(await c.removeVm('dev'), undefined);
    assert.is(r.engine.vms.size, 0);
    // omitted optional args reach the engine as undefined (its defaults apply), given ones as given
    assert.equal(await c.engineLog(), await r.engine.engineLog());
    assert.is((await c.engineLog()).length, 5, 'the default line count applied: the whole log of 5 lines');
    assert.equal(await c.engineLog(2), (await r.engine.engineLog()).slice(-2));
    assert.is((await c.events(4)).length, 4);
    r.engine.reconcileReport = { adopted: ['a'], stopped: [], orphansRemoved: [] };
    assert.equal(await c.reconcile(), { adopted: ['a'], stopped: [], orphansRemoved: [] });
    const st = await c.status();
    assert.is(st.pid, process.pid);
    assert.is(st.vms.total, 0);
    assert.is((await c.addKernel({ name: 'k', path: '/p', initrd: '/i' })).initrdPath, '/i');
    assert.equal(await c.ping(), { pong: true, pid: process.pid });
  } finally {
    await c.close();
    await r.stop();
  }
});

test('errors keep their code, message and details; plain errors become E_INTERNAL', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  try {
    const nf = await expectError(c.getVm('ghost'), 'E_NOT_FOUND');
    assert.is(nf.message, 'no VM named ghost');
    assert.equal(nf.details, { name: 'ghost' });
    const bad = await expectError(c.createVm({ name: 'Bad Name!' }), 'E_INVALID_NAME');
    assert.equal(bad.details, { name: 'Bad Name!' });
    await expectError(c.removeImage('nope'), 'E_UNKNOWN_IMAGE');
    r.engine.doctor = async () => {
      throw new Error('doctor blew up'); // a plain Error: must reach the client as E_INTERNAL
    };
    const internal = await expectError(c.doctor(), 'E_INTERNAL');
    assert.is(internal.message, 'doctor blew up');
    await c.createVm({ name: 'dup' });
    await expectError(c.createVm({ name: 'dup' }), 'E_NAME_TAKEN');
    // the connection is still good after errors
    assert.is((await c.listVms()).length, 1);
  } finally {
    await c.close();
    await r.stop();
  }
});

test('Buffers survive the wire byte for byte (consoleTail, sendConsole)', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  try {
    await c.createVm({ name: 'bin', start: true });
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    r.engine.guestWrites('bin', Buffer.concat([all, Buffer.from('\n{"$base64":"x"}\r\n')]));
    const tail = await c.consoleTail('bin');
    assert.ok(Buffer.isBuffer(tail));
    assert.ok(tail.equals(await r.engine.consoleTail('bin')));
    assert.ok(tail.subarray(-256 - 18).equals(Buffer.concat([all, Buffer.from('\n{"$base64":"x"}\r\n')])));
    const last = await c.consoleTail('bin', 5);
    assert.is(last.length, 5);
    assert.ok(last.equals(tail.subarray(-5)));
    await c.sendConsole('bin', all);
    assert.ok(Buffer.isBuffer(r.engine.sent[0].data));
    assert.ok(r.engine.sent[0].data.equals(all));
    await c.sendConsole('bin', 'ls -l\n');
    assert.is(r.engine.sent[1].data.toString(), 'ls -l\n');
  } finally {
    await c.close();
    await r.stop();
  }
});

test('events reach subscribers; one wire subscription; unsubscribe is synchronous and propagates', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  const other = await ControlClient.connect(r.socketPath);
  try {
    const a: EngineEvent[] = [];
    const b: EngineEvent[] = [];
    const offA = c.subscribe((e) => a.push(e));
    const offB = c.subscribe((e) => b.push(e));
    await until(() => r.engine.listenerCount === 1);
    const states = (es: EngineEvent[]) => es.flatMap((e) => (e.type === 'vm' ? [e.vm.state] : []));
    await other.createVm({ name: 'ev', start: true });
    await until(() => states(a).at(-1) === 'running' && states(b).at(-1) === 'running');
    assert.equal(states(a), ['created', 'starting', 'running']);
    assert.equal(a, b);
    offA();
    const seenByA = a.length;
    await other.stopVm('ev');
    await until(() => states(b).at(-1) === 'stopped');
    assert.is(a.length, seenByA, 'a listener that unsubscribed gets nothing more');
    offB();
    await until(() => r.engine.listenerCount === 0);
    // subscribing again re-subscribes on the wire
    const again: EngineEvent[] = [];
    const offC = c.subscribe((e) => again.push(e));
    await until(() => r.engine.listenerCount === 1);
    r.engine.emit({ type: 'dns', records: 7 });
    await until(() => again.length === 1);
    assert.equal(again[0], { type: 'dns', records: 7 });
    offC();
  } finally {
    await c.close();
    await other.close();
    await r.stop();
  }
});

test('console bytes flow both ways; unknown VM is refused; unsubscribe reaches the engine', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  try {
    await c.createVm({ name: 'tty', start: true });
    await expectError(
      c.subscribeConsole('ghost', () => {}),
      'E_NOT_FOUND',
    );
    const got: Buffer[] = [];
    const got2: Buffer[] = [];
    const off = await c.subscribeConsole('tty', (d) => got.push(d));
    // resolved means in place: bytes written right now are not lost
    assert.is(r.engine.consoleListenerCount('tty'), 1);
    const off2 = await c.subscribeConsole('tty', (d) => got2.push(d));
    assert.is(r.engine.consoleListenerCount('tty'), 1, 'one engine subscription per connection and VM');
    r.engine.guestWrites('tty', Buffer.from([0x1b, 0x5b, 0x48, 0x00, 0xff]));
    await until(() => got.length === 1 && got2.length === 1);
    assert.ok(got[0].equals(Buffer.from([0x1b, 0x5b, 0x48, 0x00, 0xff])));
    await c.sendConsole('tty', Buffer.from('echo hi\r'));
    await until(() => got.length === 2);
    assert.is(got[1].toString(), 'echo hi\r', 'the fake tty echoes what the client sent');
    off();
    off2();
    await until(() => r.engine.consoleListenerCount('tty') === 0);
  } finally {
    await c.close();
    await r.stop();
  }
});

test('a client that goes away loses its subscriptions on the engine', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  await c.createVm({ name: 'gone' });
  c.subscribe(() => {});
  await c.subscribeConsole('gone', () => {});
  await until(() => r.engine.listenerCount === 1);
  c['socket'].destroy();
  await until(() => r.engine.listenerCount === 0 && r.engine.consoleListenerCount('gone') === 0);
  await until(() => r.server.clientCount === 0);
  await r.stop();
});

test('socket is 0600 inside a 0700 dir, even when the dir existed with looser bits', async () => {
  const { dir, cleanup } = tempDir();
  const run = join(dir, 'run');
  mkdirSync(run, { mode: 0o755 });
  chmodSync(run, 0o755);
  const socketPath = join(run, 'engine.sock');
  const server = new ControlServer({ engine: new FakeEngine(), socketPath, buildId: 'b' });
  const oldMask = process.umask(0o000);
  try {
    await server.listen();
  } finally {
    process.umask(oldMask);
  }
  try {
    assert.is(statSync(socketPath).mode & 0o777, 0o600);
    assert.ok(statSync(socketPath).isSocket());
    assert.is(statSync(run).mode & 0o777, 0o700);
    assert.is(process.umask(oldMask), oldMask, 'the process umask is restored after listen');
  } finally {
    await server.close();
    assert.not.ok(existsSync(socketPath), 'close removes the socket');
    cleanup();
  }
});

test('listen refuses while a live engine answers, refuses to replace a non-socket', async () => {
  const r = await startServer();
  try {
    const second = new ControlServer({ engine: new FakeEngine(), socketPath: r.socketPath, buildId: 'b' });
    const err = await expectError(second.listen(), 'E_ENGINE_RUNNING');
    assert.equal(err.details?.pid, process.pid);
    assert.ok(await ping(r.socketPath), 'the first engine still answers');
    const notSock = join(r.dir, 'file.sock');
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(notSock, 'precious');
    await expectError(
      new ControlServer({ engine: new FakeEngine(), socketPath: notSock, buildId: 'b' }).listen(),
      'E_INVALID_ARGUMENT',
    );
    assert.is(readFileSync(notSock, 'utf8'), 'precious');
    await expectError(
      new ControlServer({ engine: new FakeEngine(), socketPath: join(r.dir, 'x'.repeat(120)), buildId: 'b' }).listen(),
      'E_INVALID_ARGUMENT',
    );
  } finally {
    await r.stop();
  }
});

test('handover: onHandover runs, the caller gets an answer, the socket goes away', async () => {
  let handedOver = 0;
  const late: { server?: ControlServer } = {};
  const r = await startServer({
    onHandover: async () => {
      handedOver++;
      await late.server!.close();
    },
  });
  late.server = r.server;
  const c = await ControlClient.connect(r.socketPath);
  const closed = new Promise<unknown>((res) => c.onClose(res));
  const res = await c.handover();
  assert.equal(res, { pid: process.pid });
  assert.is(handedOver, 1);
  assert.is(r.engine.vms.size, 0);
  await closed;
  assert.is(await ping(r.socketPath), null);
  assert.not.ok(existsSync(r.socketPath));
  await r.stop();
});

test('handover is refused when the engine does not support it', async () => {
  const r = await startServer();
  const c = await ControlClient.connect(r.socketPath);
  await expectError(c.handover(), 'E_NOT_IMPLEMENTED');
  assert.ok(await ping(r.socketPath));
  await c.close();
  await r.stop();
});

test('shutdown over the wire resolves although the engine closes the server under it', async () => {
  const r = await startServer();
  r.engine.onShutdown = () => r.server.close();
  const c = await ControlClient.connect(r.socketPath);
  const watcher = await ControlClient.connect(r.socketPath);
  const reasons: unknown[] = [];
  watcher.onClose((e) => reasons.push(e));
  await c.shutdown({ stopVms: false });
  assert.is(r.engine.shutdownCalls, 1);
  assert.equal(r.engine.calls.at(-1)?.args, [{ stopVms: false }]);
  await until(() => reasons.length === 1);
  assert.is(watcher.isOpen, false);
  await expectError(watcher.listVms(), 'E_ENGINE_UNAVAILABLE');
  await r.stop();
});

test.run();
