import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  appendFileSync,
  closeSync,
  constants,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '../../../app/base/process.js';
import { ConsoleManager, ConsoleTail } from '../../../app/engine/vm/console.js';
import { createConsoleFifo, openFifoForVmm, writeConsoleFifo } from '../../../app/engine/driver/console-fifo.js';
import { BangerError } from '../../../app/base/errors.js';

const runner = createRunner();
const dirs: string[] = [];
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'console-'));
  dirs.push(d);
  return d;
};

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('createConsoleFifo makes a 0600 FIFO, reuses one, refuses a regular file', async () => {
  const dir = tmp();
  const fifo = join(dir, 'in');
  await createConsoleFifo(runner, fifo);
  const st = statSync(fifo);
  assert.ok(st.isFIFO());
  assert.is(st.mode & 0o777, 0o600);
  await createConsoleFifo(runner, fifo); // again: fine
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  const err = await createConsoleFifo(runner, file).catch((e) => e);
  assert.instance(err, BangerError);
  assert.is(err.code, 'E_IN_USE');
});

test('writeConsoleFifo: no reader is a clear error; with the VMM side open the bytes arrive', async () => {
  const fifo = join(tmp(), 'in');
  await createConsoleFifo(runner, fifo);
  const err = await writeConsoleFifo(fifo, 'x').catch((e) => e);
  assert.instance(err, BangerError);
  assert.is(err.code, 'E_INVALID_STATE');
  const vmmSide = openFifoForVmm(fifo); // O_RDWR: returns at once, no writer needed
  try {
    await writeConsoleFifo(fifo, 'ls -l\r');
    const buf = Buffer.alloc(64);
    const n = readSync(vmmSide, buf, 0, 64, null);
    assert.is(buf.subarray(0, n).toString(), 'ls -l\r');
  } finally {
    closeSync(vmmSide);
  }
  const missing = await writeConsoleFifo(join(tmp(), 'none'), 'x').catch((e) => e);
  assert.is(missing.code, 'E_INVALID_STATE');
});

test('a full pipe (nobody reading) times out instead of hanging', async () => {
  const fifo = join(tmp(), 'in');
  await createConsoleFifo(runner, fifo);
  const vmmSide = openFifoForVmm(fifo);
  try {
    const err = await writeConsoleFifo(fifo, Buffer.alloc(256 * 1024, 0x61), 100).catch((e) => e);
    assert.instance(err, BangerError);
    assert.is(err.code, 'E_TIMEOUT');
  } finally {
    closeSync(vmmSide);
  }
});

test('ConsoleTail emits only new bytes, in order; tail() returns the last bytes', async () => {
  const log = join(tmp(), 'console.log');
  writeFileSync(log, 'old boot output\n');
  const t = new ConsoleTail(log, { pollMs: 20 });
  t.start();
  const got: Buffer[] = [];
  t.subscribe((b) => got.push(b));
  try {
    appendFileSync(log, 'line one\n');
    await until(() => Buffer.concat(got).toString() === 'line one\n');
    appendFileSync(log, 'line two\n');
    await until(() => Buffer.concat(got).toString() === 'line one\nline two\n');
    assert.is(t.tail(9).toString(), 'line two\n');
    assert.is(t.tail(1 << 20).toString(), 'old boot output\nline one\nline two\n');
  } finally {
    t.stop();
  }
});

test('size cap: truncates in place to the last half; the O_APPEND writer carries on at the end', async () => {
  const log = join(tmp(), 'console.log');
  writeFileSync(log, '');
  const vmm = openSync(log, constants.O_WRONLY | constants.O_APPEND); // as the driver gives it to the VMM
  const t = new ConsoleTail(log, { maxBytes: 1000, pollMs: 10 });
  t.start();
  const got: Buffer[] = [];
  t.subscribe((b) => got.push(b));
  let all = '';
  try {
    for (let i = 0; i < 60; i++) {
      const line = `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`;
      writeSync(vmm, line);
      all += line;
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 30));
    }
    await until(() => Buffer.concat(got).length === all.length);
    t.poll();
    const size = statSync(log).size;
    assert.ok(size <= 1000, `capped (${size})`);
    const content = readFileSync(log, 'utf8');
    assert.ok(all.endsWith(content), 'what remains is the tail of what was written');
    assert.ok(content.startsWith('line '), 'cut on a line boundary');
    assert.is(Buffer.concat(got).toString(), all, 'every byte reached the subscriber exactly once');
    writeSync(vmm, 'after the cut\n');
    await until(() => Buffer.concat(got).toString().endsWith('after the cut\n'));
    assert.ok(
      readFileSync(log, 'utf8').endsWith(content.slice(-40) + 'after the cut\n'),
      'no hole: appended right after the kept part',
    );
    assert.not.ok(readFileSync(log).includes(0), 'no NUL bytes');
  } finally {
    t.stop();
    closeSync(vmm);
  }
});

test('the tail follows a file that shrank under it', async () => {
  const log = join(tmp(), 'console.log');
  writeFileSync(log, 'a'.repeat(500));
  const t = new ConsoleTail(log, { pollMs: 10 });
  t.start();
  const got: Buffer[] = [];
  t.subscribe((b) => got.push(b));
  try {
    truncateSync(log, 0);
    t.poll();
    appendFileSync(log, 'fresh');
    await until(() => Buffer.concat(got).toString() === 'fresh');
  } finally {
    t.stop();
  }
});

test('ConsoleManager: prepare, attach, subscribe, write, detach, cleanup', async () => {
  const dir = tmp();
  const m = new ConsoleManager({ runner, maxBytes: 0, pollMs: 10 });
  const { log, fifo } = await m.prepare('vm1', { log: join(dir, 'console.log'), fifo: join(dir, 'console.in') });
  assert.ok(statSync(fifo).isFIFO());
  assert.is(statSync(log).size, 0);
  const vmmIn = openFifoForVmm(fifo);
  try {
    assert.throws(() => m.subscribe('vm1', () => {}), /not attached/);
    m.attach('vm1', log, fifo);
    const got: Buffer[] = [];
    const off = m.subscribe('vm1', (b) => got.push(b));
    appendFileSync(log, 'hello');
    await until(() => Buffer.concat(got).toString() === 'hello');
    off();
    appendFileSync(log, ' world');
    await new Promise((r) => setTimeout(r, 50));
    assert.is(Buffer.concat(got).toString(), 'hello', 'unsubscribed');
    assert.is((await m.tail('vm1', log, 5)).toString(), 'world');
    await m.write('vm1', Buffer.from('k'));
    const b = Buffer.alloc(4);
    assert.is(readSync(vmmIn, b, 0, 4, null), 1);
    m.detach('vm1');
    await assert.not.throws(async () => m.tail('vm1', log, 5));
    await m.cleanup(fifo);
    assert.throws(() => statSync(fifo));
  } finally {
    closeSync(vmmIn);
  }
});

test.run();
