import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeEngine } from './fake-engine.js';
import { BangerError } from '../../app/base/errors.js';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: BangerError) => e.code,
  );

test('the fake takes names by the engine rule (1-63 label characters) and its state rules', async () => {
  const e = new FakeEngine({ transitionMs: 0 });
  assert.is(await code(e.createVm({ name: 'a'.repeat(63) })), 'ok');
  assert.is(await code(e.createVm({ name: 'b'.repeat(64) })), 'E_INVALID_NAME');
  assert.is(await code(e.createVm({ name: '9lives' })), 'ok', 'a label may start with a digit');
  assert.is(await code(e.createVm({ name: 'end-' })), 'E_INVALID_NAME');
  assert.is(await code(e.stopVm('9lives')), 'E_INVALID_STATE', 'only a running VM stops');
  assert.is(await code(e.sendConsole('9lives', 'x')), 'E_INVALID_STATE', 'a stopped console takes no input');
  assert.is((await e.startVm('9lives')).state, 'running');
  assert.is(await code(e.removeVm('9lives')), 'E_INVALID_STATE', 'a running VM is removed only with force');
  e.dispose();
});

test.run();
