// EngineSwitch over real control sockets: listeners made against one engine keep working
// after the switch points at another (events, console bytes), a console whose VM is not
// there yet is picked up when it runs, and findEngine gives up in time when nobody answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ControlClient } from '../../app/control/client.js';
import { ControlServer } from '../../app/control/server.js';
import type { EngineEvent } from '../../app/contract/api.js';
import { EngineSwitch, findEngine } from '../../app/entry/engine-switch.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { tempDir, until } from '../control/helpers.js';

async function serve(socketPath: string, engine = new FakeEngine({ transitionMs: 0, echo: 'raw' })) {
  const server = new ControlServer({ engine, socketPath, buildId: 'test-build' });
  await server.listen();
  return { engine, server };
}

test('events and console listeners survive a switch to a new engine on the same socket', async () => {
  const { dir, cleanup } = tempDir();
  const sock = join(dir, 'engine.sock');
  const a = await serve(sock);
  await a.engine.createVm({ name: 'web', start: true });
  const sw = new EngineSwitch(await ControlClient.connect(sock));
  const events: EngineEvent[] = [];
  sw.subscribe((e) => events.push(e));
  const bytes: string[] = [];
  const off = await sw.subscribeConsole('web', (d) => bytes.push(d.toString()));
  await until(() => a.engine.listenerCount === 1);
  a.engine.guestWrites('web', Buffer.from('from-a '));
  await until(() => bytes.join('').includes('from-a'));

  const old = sw.current as ControlClient;
  await a.server.close();
  await old.closed;
  assert.not.ok(old.isOpen);
  // A new engine (a restart elsewhere) comes up on the same path a little later.
  const b = new FakeEngine({ transitionMs: 0, echo: 'raw' });
  await b.createVm({ name: 'web', start: true });
  const later = new Promise<Awaited<ReturnType<typeof serve>>>((r) =>
    setTimeout(() => void serve(sock, b).then(r), 300),
  );
  const t0 = Date.now();
  const client = await findEngine(sock, { windowMs: 3000, intervalMs: 50 });
  assert.ok(client, 'found the new engine');
  assert.ok(Date.now() - t0 >= 250, 'it was not there at first');
  await sw.swap(client!);
  const bServer = (await later).server;
  try {
    await until(() => b.listenerCount === 1 && b.consoleListenerCount('web') === 1, 2000);
    b.guestWrites('web', Buffer.from('from-b'));
    await until(() => bytes.join('').includes('from-b'));
    await b.createVm({ name: 'db' });
    await until(() => events.some((e) => e.type === 'vm' && e.vm.name === 'db'));
    assert.equal((await sw.listVms()).map((v) => v.name).sort(), ['db', 'web'], 'calls go to the new engine');
    off();
    await until(() => b.consoleListenerCount('web') === 0);
    assert.is(sw.consoleListenerCount('web'), 0);
  } finally {
    await client!.close();
    await bServer.close();
    cleanup();
  }
});

test('a console whose VM is missing on the new engine is followed once that VM runs', async () => {
  const { dir, cleanup } = tempDir();
  const sock = join(dir, 'engine.sock');
  const a = await serve(sock);
  await a.engine.createVm({ name: 'late', start: true });
  const sw = new EngineSwitch(await ControlClient.connect(sock));
  const bytes: string[] = [];
  await sw.subscribeConsole('late', (d) => bytes.push(d.toString()));
  await a.server.close();
  const b = await serve(sock);
  const client = await findEngine(sock, { windowMs: 2000 });
  try {
    await sw.swap(client!); // 'late' does not exist on b: no subscription, listener kept
    assert.is(b.engine.consoleListenerCount('late'), 0);
    assert.is(sw.consoleListenerCount('late'), 1);
    // A new subscriber sees b's refusal, and is not registered.
    const err = await sw.subscribeConsole('late', () => {}).catch((e) => e);
    assert.is(err.code, 'E_NOT_FOUND');
    assert.is(sw.consoleListenerCount('late'), 1);
    await b.engine.createVm({ name: 'late', start: true });
    await until(() => b.engine.consoleListenerCount('late') === 1, 2000);
    b.engine.guestWrites('late', Buffer.from('booted'));
    await until(() => bytes.join('') === 'booted');
  } finally {
    await client?.close();
    await b.server.close();
    cleanup();
  }
});

test('findEngine: null once the window is over when nothing answers', async () => {
  const { dir, cleanup } = tempDir();
  const t0 = Date.now();
  assert.is(await findEngine(join(dir, 'none.sock'), { windowMs: 600, intervalMs: 100 }), null);
  const took = Date.now() - t0;
  assert.ok(took >= 500 && took < 2000, `took ${took} ms`);
  let n = 0;
  assert.is(
    await findEngine(join(dir, 'none.sock'), { windowMs: 5000, intervalMs: 50, cancelled: () => ++n > 2 }),
    null,
  );
  assert.ok(Date.now() - t0 < 3000, 'cancelled early');
  cleanup();
});

test.run();
