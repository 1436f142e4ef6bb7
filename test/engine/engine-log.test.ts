import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, rmSync } from 'node:fs';
import { simEngine, type TestEngine } from '../helpers/engine.js';
import { BangerError } from '../../app/base/errors.js';
import { VALIDATORS } from '../../app/control/methods.js';

let te: TestEngine;
test.before(async () => {
  te = await simEngine();
});
test.after(async () => {
  await te.close();
});

test('engineLog returns the last lines, whole, from the end of the file only', async () => {
  const file = te.t.paths.engineLog;
  writeFileSync(file, Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n');
  assert.equal(await te.engine.engineLog(3), ['line 997', 'line 998', 'line 999']);
  assert.is((await te.engine.engineLog()).length, 200);
  assert.is((await te.engine.engineLog())[0], 'line 800');
  // 20 MB: far more than the window; the answer is still the last whole lines.
  const long = 'x'.repeat(5000);
  writeFileSync(file, `${long}\n`.repeat(4000) + 'tail a\n\ntail b\n');
  const got = await te.engine.engineLog(20);
  assert.equal(got.slice(-2), ['tail a', 'tail b']);
  assert.ok(got.length >= 10 && got.length <= 20, `${got.length} lines`);
  for (const l of got.slice(0, -2)) assert.is(l, long, 'no partial first line');
  rmSync(file, { force: true });
  assert.equal(await te.engine.engineLog(5), [], 'no log yet');
  // A bad count from the wire is refused at the control boundary, before the engine.
  try {
    VALIDATORS.engineLog([-1]);
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
  }
});

test.run();
