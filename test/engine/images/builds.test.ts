import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuildRegistry } from '../../../app/engine/images/builds.js';
import { serial } from '../../../app/engine/images/serial.js';
import { BangerError } from '../../../app/base/errors.js';
import { makeEnv, type Env } from './helpers.js';

let env: Env;
test.before(() => {
  env = makeEnv();
});
test.after(() => env.cleanup());

async function refused(p: Promise<unknown>): Promise<BangerError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    return err as BangerError;
  }
  throw new Error('expected a BangerError');
}

test('a name is held while it is made, refused when registered, and freed whatever happens', async () => {
  const registered = new Set(['taken']);
  const reg = new BuildRegistry('image', env.deps, (n) => registered.has(n));
  let e = await refused(reg.hold('taken', async () => 1));
  assert.is(e.code, 'E_NAME_TAKEN');
  assert.is(e.message, 'an image named "taken" already exists');
  let release!: () => void;
  const first = reg.hold(
    'x',
    () =>
      new Promise<string>((r) => {
        release = () => r('made');
      }),
  );
  e = await refused(reg.hold('x', async () => 'twice'));
  assert.is(e.message, 'an image named "x" is being built');
  release();
  assert.is(await first, 'made');
  assert.is(await reg.hold('x', async () => 'again'), 'again', 'released after success');
  await refused(
    reg.hold('y', async () => {
      throw new BangerError('E_INTERNAL', 'boom');
    }),
  );
  assert.is(await reg.hold('y', async () => 'ok'), 'ok', 'released after failure');
  const kernels = new BuildRegistry('kernel', env.deps, () => false);
  let rel2!: () => void;
  const k = kernels.hold(
    'k',
    () =>
      new Promise<void>((r) => {
        rel2 = r;
      }),
  );
  assert.is((await refused(kernels.hold('k', async () => 0))).message, 'a kernel named "k" is being made');
  rel2();
  await k;
});

test('run tracks a BuildJob: listed, cancellable once, and unknown ids are refused', async () => {
  const reg = new BuildRegistry('kernel', env.deps, () => false);
  let id = '';
  const p = reg.run(
    'job1',
    undefined,
    (job) =>
      new Promise<string>((resolve, reject) => {
        id = job.id;
        job.signal.addEventListener('abort', () => reject(new BangerError('E_CANCELLED', 'stopped')));
      }),
  );
  assert.ok(id.startsWith('kernel-job1-'));
  assert.equal(
    reg.list().map((b) => [b.id, b.kind, b.name, b.state]),
    [[id, 'kernel', 'job1', 'running']],
  );
  reg.cancel(id);
  assert.is((await refused(p)).code, 'E_CANCELLED');
  assert.is((await refused(Promise.resolve().then(() => reg.cancel('nope')))).code, 'E_NOT_FOUND');
  // A job that has ended cannot be cancelled.
  const done = reg.run('job2', undefined, async (job) => {
    job.finish('done');
    return job.id;
  });
  const id2 = await done;
  const e = await refused(Promise.resolve().then(() => reg.cancel(id2)));
  assert.is(e.code, 'E_INVALID_STATE');
  assert.match(e.message, /already ended \(done\)/);
});

test('finished builds are pruned to the last 50; running ones are kept', async () => {
  const reg = new BuildRegistry('image', env.deps, () => false);
  let release!: () => void;
  const long = reg.run(
    'long',
    undefined,
    (job) =>
      new Promise<void>((r) => {
        release = () => {
          job.finish('done');
          r();
        };
      }),
  );
  for (let i = 0; i < 60; i++) await reg.run(`n${i}`, undefined, async (job) => job.finish('failed', 'x'));
  const names = reg.list().map((b) => b.name);
  assert.ok(names.includes('long'));
  assert.ok(!names.includes('n0'), 'oldest finished dropped');
  assert.ok(names.includes('n59'));
  assert.ok(reg.list().length <= 52);
  release();
  await long;
});

test('serial: one at a time per key; a queued caller cancelled while waiting never runs and keeps the queue intact', async () => {
  const order: string[] = [];
  let releaseA!: () => void;
  const a = serial('k', async () => {
    order.push('a start');
    await new Promise<void>((r) => {
      releaseA = r;
    });
    order.push('a end');
    return 'a';
  });
  let waited = 0;
  const ac = new AbortController();
  const b = serial(
    'k',
    async () => {
      order.push('b');
      return 'b';
    },
    { signal: ac.signal, onWait: () => waited++ },
  );
  const c = serial(
    'k',
    async () => {
      order.push('c');
      return 'c';
    },
    { onWait: () => waited++ },
  );
  const other = serial('other', async () => {
    order.push('other');
    return 'other';
  });
  assert.is(await other, 'other', 'another key does not wait');
  assert.is(waited, 2);
  ac.abort();
  const e = await refused(b);
  assert.is(e.code, 'E_CANCELLED');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(order, ['a start', 'other'], 'c still waits for a, though b gave up');
  releaseA();
  assert.is(await a, 'a');
  assert.is(await c, 'c');
  assert.equal(order, ['a start', 'other', 'a end', 'c']);
  // A failing holder does not block the next one.
  await refused(
    serial('k', async () => {
      throw new BangerError('E_INTERNAL', 'x');
    }),
  );
  assert.is(await serial('k', async () => 'after'), 'after');
  // Already aborted: refused without running, even with nobody holding the key.
  const ac2 = new AbortController();
  ac2.abort();
  let ran = false;
  assert.is(
    (
      await refused(
        serial(
          'free',
          async () => {
            ran = true;
          },
          { signal: ac2.signal },
        ),
      )
    ).code,
    'E_CANCELLED',
  );
  assert.is(ran, false);
});

test.run();
