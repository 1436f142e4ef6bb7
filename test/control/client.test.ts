import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ControlClient, ping } from '../../app/control/client.js';
import { ControlServer } from '../../app/control/server.js';
import { createRunner } from '../../app/base/process.js';
import { BangerError } from '../../app/base/errors.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { startServer, tempDir, until } from './helpers.js';

/** A socket file whose owner died (SIGKILL leaves it behind): connecting is refused. */
async function staleSocket(path: string): Promise<void> {
  const child = createRunner().spawn(
    [
      process.execPath,
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}); setInterval(() => {}, 1000)`,
    ],
    { stdio: 'ignore', detached: false },
  );
  await until(() => existsSync(path), 5000);
  process.kill(child.pid, 'SIGKILL');
  await child.exited;
}

test('ping: null at once when there is no socket file or nobody behind it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let t = Date.now();
    assert.is(await ping(join(dir, 'missing.sock')), null);
    assert.ok(Date.now() - t < 200, 'ENOENT is immediate');
    const stale = join(dir, 'stale.sock');
    await staleSocket(stale);
    assert.ok(existsSync(stale));
    t = Date.now();
    assert.is(await ping(stale), null);
    assert.ok(Date.now() - t < 200, 'ECONNREFUSED is immediate');
    // a listener that never answers hello: null after the timeout, not a hang
    // it reads (and ignores) what it gets; an unread socket would not keep the loop alive
    const mute = createServer((s) => s.on('data', () => {}));
    const mutePath = join(dir, 'mute.sock');
    await new Promise<void>((r) => mute.listen(mutePath, r));
    t = Date.now();
    assert.is(await ping(mutePath, { timeoutMs: 150 }), null);
    assert.ok(Date.now() - t < 1000);
    await new Promise((r) => mute.close(r));
    // a new engine replaces the stale socket file and ping now answers
    const server = new ControlServer({ engine: new FakeEngine(), socketPath: stale, buildId: 'b2', mode: 'embedded' });
    await server.listen();
    assert.equal(await ping(stale), { protocol: 1, buildId: 'b2', pid: process.pid, mode: 'embedded' });
    await server.close();
  } finally {
    cleanup();
  }
});

test('connect to nothing fails with E_ENGINE_UNAVAILABLE', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await ControlClient.connect(join(dir, 'none.sock'));
    assert.unreachable('connected to nothing');
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, 'E_ENGINE_UNAVAILABLE');
    assert.match((err as Error).message, /no engine is listening/);
  } finally {
    cleanup();
  }
});

test('connect refuses an engine speaking another protocol; ping still identifies it', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'v2.sock');
  const future = createServer((s) =>
    s.on('data', (d) => {
      const req = JSON.parse(d.toString());
      s.write(
        JSON.stringify({
          id: req.id,
          ok: true,
          result: { protocol: 2, buildId: 'future', pid: 4242, mode: 'detached' },
        }) + '\n',
      );
    }),
  );
  await new Promise<void>((r) => future.listen(path, r));
  try {
    assert.equal(await ping(path), { protocol: 2, buildId: 'future', pid: 4242, mode: 'detached' });
    try {
      await ControlClient.connect(path);
      assert.unreachable();
    } catch (err) {
      assert.is((err as BangerError).code, 'E_PROTOCOL');
      assert.match((err as Error).message, /pid 4242 speaks protocol 2/);
    }
  } finally {
    await new Promise((r) => future.close(r));
    cleanup();
  }
});

test('when the engine goes away: pending calls fail with E_ENGINE_UNAVAILABLE and onClose fires', async () => {
  const r = await startServer({ closeGraceMs: 100 });
  r.engine.reconcile = () => new Promise(() => {}); // never answers
  const c = await ControlClient.connect(r.socketPath);
  const reasons: (BangerError | null)[] = [];
  c.onClose((e) => reasons.push(e));
  const pending = c.reconcile();
  await new Promise((res) => setTimeout(res, 20));
  await r.server.close();
  try {
    await pending;
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_ENGINE_UNAVAILABLE');
  }
  await until(() => reasons.length === 1);
  assert.is(c.isOpen, false);
  // our own close() reports null
  await r.stop();
  const r2 = await startServer();
  const c2 = await ControlClient.connect(r2.socketPath);
  const own: unknown[] = [];
  c2.onClose((e) => own.push(e));
  await c2.close();
  await until(() => own.length === 1);
  assert.equal(own, [null]);
  await r2.stop();
});

test('50 concurrent clients each doing calls all succeed', async () => {
  const r = await startServer();
  try {
    const t = Date.now();
    const clients = await Promise.all(Array.from({ length: 50 }, () => ControlClient.connect(r.socketPath)));
    const seen = new Set<number>();
    await Promise.all(
      clients.map(async (c, i) => {
        c.subscribe((e) => {
          if (e.type === 'vm' && e.vm.name === 'c0') seen.add(i);
        });
        const vm = await c.createVm({ name: `c${i}`, start: true });
        assert.is(vm.name, `c${i}`);
        for (let k = 0; k < 10; k++) assert.is((await c.getVm(`c${i}`)).id, vm.id);
        await c.sendConsole(`c${i}`, Buffer.from([i]));
        const tail = await c.consoleTail(`c${i}`);
        assert.ok(tail.subarray(-1).equals(Buffer.from([i])), 'the echo of what was sent ends the tail');
        await c.stopVm(`c${i}`);
      }),
    );
    assert.is(r.engine.vms.size, 50);
    assert.ok([...r.engine.vms.values()].every((v) => v.state === 'stopped'));
    assert.is(r.server.clientCount, 50);
    await Promise.all(clients.map((c) => c.close()));
    await until(() => r.server.clientCount === 0);
    const ms = Date.now() - t;
    assert.ok(ms < 10_000, `took ${ms} ms`);
    console.log(`  50 clients x 14 calls: ${ms} ms`);
  } finally {
    await r.stop();
  }
});

test.run();
