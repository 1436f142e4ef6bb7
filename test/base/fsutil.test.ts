import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSize, readTail, readTailLines } from '../../app/base/fsutil.js';
import { sleep } from '../../app/base/time.js';

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'banger-fsutil-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('readTail: the last bytes, never before `from`; missing file reads as empty', () => {
  const f = join(dir, 'a.log');
  writeFileSync(f, '0123456789');
  assert.is(readTail(f, 4), '6789');
  assert.is(readTail(f, 100), '0123456789');
  assert.is(readTail(f, 100, 7), '789');
  assert.is(readTail(f, 2, 3), '89');
  assert.is(readTail(f, 100, 50), '', 'from past the end');
  assert.is(readTail(f, 0), '');
  assert.is(readTail(join(dir, 'missing'), 10), '');
  assert.is(readTail(dir, 10), '', 'a directory is unreadable as a file');
});

test("readTail reads a large file's end only, byte-exact", () => {
  const f = join(dir, 'big.log');
  const chunk = 'x'.repeat(1024 * 1024);
  writeFileSync(f, chunk + chunk + 'THE END');
  assert.is(readTail(f, 7), 'THE END');
  assert.is(readTail(f, 10), 'xxxTHE END');
  assert.is(fileSize(f), 2 * 1024 * 1024 + 7);
});

test('readTailLines drops a partial first line but keeps a whole one', () => {
  const f = join(dir, 'lines.log');
  writeFileSync(f, 'first line\nsecond\nthird\n\nfourth\n');
  assert.equal(readTailLines(f, 1000), ['first line', 'second', 'third', 'fourth']);
  // window "ond\nthird\n\nfourth\n": "ond" is the tail of "second", not a line
  assert.equal(readTailLines(f, 18), ['third', 'fourth']);
  // window "third\n\nfourth\n" starts right after a newline: "third" is whole
  assert.equal(readTailLines(f, 14), ['third', 'fourth']);
  assert.equal(readTailLines(f, 15), ['third', 'fourth'], 'window "\\nthird..." starts on a line break');
  assert.equal(readTailLines(f, 1000, 11), ['second', 'third', 'fourth'], 'from is a line start chosen by the caller');
  assert.equal(readTailLines(join(dir, 'missing'), 100), []);
  appendFileSync(f, 'no newline yet');
  assert.equal(readTailLines(f, 1000).pop(), 'no newline yet');
});

test('fileSize is 0 for a missing file; sleep waits', async () => {
  assert.is(fileSize(join(dir, 'nope')), 0);
  const t0 = Date.now();
  await sleep(30);
  assert.ok(Date.now() - t0 >= 25);
});

test.run();
