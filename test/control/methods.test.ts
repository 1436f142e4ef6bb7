// One validator per engine method at the control boundary: bad shapes are E_INVALID_ARGUMENT
// and nothing reaches the engine, good params come out typed and unchanged, and domain rules
// (what a valid VM name or size is) are left to the engine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callEngine, ENGINE_METHODS, VALIDATORS } from '../../app/control/methods.js';
import type { EngineApi } from '../../app/contract/api.js';
import { BangerError } from '../../app/base/errors.js';

const code = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof BangerError ? err.code : 'not a BangerError';
  }
};

test('every engine method has its validator', () => {
  assert.equal(Object.keys(VALIDATORS).sort(), [...ENGINE_METHODS].sort());
});

test('bad shapes are E_INVALID_ARGUMENT with a one-line message', () => {
  const cases: [keyof typeof VALIDATORS, unknown[]][] = [
    ['getVm', [5]],
    ['startVm', [null]],
    ['stopVm', ['a', 'hard']],
    ['stopVm', ['a', { force: 'yes' }]],
    ['stopVm', ['a', { timeoutMs: -1 }]],
    ['removeVm', ['a', { force: 1 }]],
    ['createVm', ['x']],
    ['createVm', [{ name: 'a', image: 7 }]],
    ['consoleTail', ['a', 0]],
    ['sendConsole', ['a', { x: 1 }]],
    ['buildImage', [[]]],
    ['importImage', [{ name: 'i', path: 5 }]],
    ['addKernel', [{ name: 'k', path: '/k', initrd: 1 }]],
    ['cancelBuild', [{}]],
    ['events', ['abc']],
    ['engineLog', [1.5]],
    ['metrics', [{ last: 0 }]],
    ['shutdown', [{ purge: 'yes' }]],
  ];
  for (const [m, p] of cases) {
    assert.is(
      code(() => VALIDATORS[m](p)),
      'E_INVALID_ARGUMENT',
      `${m}(${JSON.stringify(p)})`,
    );
  }
});

test('good params pass through typed; domain rules are left to the engine', () => {
  assert.equal(VALIDATORS.stopVm(['a', { force: true }]), ['a', { force: true }]);
  assert.equal(VALIDATORS.events([]), [undefined]);
  assert.equal(VALIDATORS.consoleTail(['a', 10]), ['a', 10]);
  // A name that is not a valid DNS label, or vCPUs as text, are the engine's to judge (their own codes).
  const spec = { name: 'Not A Label!', vcpus: 'lots' };
  assert.is(VALIDATORS.createVm([spec])[0], spec);
  const buf = Buffer.from('ls\r');
  assert.is(VALIDATORS.sendConsole(['a', buf])[1], buf);
});

test('callEngine calls the engine only with validated params', async () => {
  const seen: unknown[][] = [];
  const engine = {
    stopVm: async (...a: unknown[]) => {
      seen.push(a);
      return null;
    },
  } as unknown as EngineApi;
  await callEngine(engine, 'stopVm', ['a', { force: false }]);
  assert.equal(seen, [['a', { force: false }]]);
  await callEngine(engine, 'stopVm', [7]).then(
    () => assert.unreachable('a bad name must not reach the engine'),
    (err: BangerError) => assert.is(err.code, 'E_INVALID_ARGUMENT'),
  );
  assert.is(seen.length, 1);
});

test.run();
