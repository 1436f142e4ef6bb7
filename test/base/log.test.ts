import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, LOG_MAX_BYTES } from '../../app/base/log.js';

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'banger-log-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('engine.log is rotated to engine.log.1 past the cap, replacing the old .1', () => {
  const file = join(dir, 'engine.log');
  const lines: string[] = [];
  const log = createLogger(file, (l) => lines.push(l), { maxBytes: 1000 });
  for (let i = 0; i < 100; i++) log.info(`message ${i}`, { pad: 'p'.repeat(40) });
  assert.is(lines.length, 100, 'the sink sees every line');
  const cur = readFileSync(file, 'utf8');
  const old = readFileSync(`${file}.1`, 'utf8');
  // One line may land past the cap (checked before each write), never more.
  assert.ok(statSync(file).size < 1000 + 120, `current ${statSync(file).size}`);
  assert.ok(statSync(`${file}.1`).size < 1000 + 120);
  assert.match(cur, /message 99 /);
  assert.not.match(old, /message 99 /);
  const lastOld = Number(/message (\d+) [^\n]*\n$/.exec(old)![1]);
  const firstCur = Number(/^\S+ INFO message (\d+) /.exec(cur)![1]);
  assert.is(firstCur, lastOld + 1, 'nothing lost across the last rotation');
  assert.not.match(old, /message 0 /, 'the first .1 was replaced by a later one');
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${file}.2`), 'only one old generation');
});

test('under the cap nothing rotates; the default cap is 10 MB; a bad path never throws', () => {
  const file = join(dir, 'small.log');
  writeFileSync(file, 'existing\n');
  const log = createLogger(file);
  log.warn('hello');
  assert.ok(!existsSync(`${file}.1`));
  assert.match(readFileSync(file, 'utf8'), /^existing\n\S+ WARN hello\n$/);
  assert.is(LOG_MAX_BYTES, 10 * 1024 * 1024);
  const nowhere = createLogger(join(dir, 'no', 'such', 'dir', 'x.log'), undefined, { maxBytes: 1 });
  nowhere.error('dropped');
});

test('a file already over the cap at start is rotated on the first write', () => {
  const file = join(dir, 'big.log');
  writeFileSync(file, 'y'.repeat(5000));
  createLogger(file, undefined, { maxBytes: 4096 }).info('fresh');
  assert.is(readFileSync(`${file}.1`, 'utf8').length, 5000);
  assert.match(readFileSync(file, 'utf8'), /^\S+ INFO fresh\n$/);
});

test.run();
