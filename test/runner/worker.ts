// One test worker (forked by test/run.ts): runs the test files the runner sends, one at a time,
// with uvu, and answers each with what uvu printed for it, its counts and the tests it skipped.
// Files run in one process one after another, as the serial runner always ran them.
import { skipped } from '../helpers/skip.js';

export interface FileResult {
  file: string;
  /** uvu's output for the file (its header, dots and failures), totals stripped. */
  output: string;
  total: number;
  passed: number;
  skips: number;
  skipped: { name: string; reason: string }[];
  ms: number;
}

declare global {
  var UVU_DEFER: number | undefined;
  var UVU_INDEX: number | undefined;
  var UVU_QUEUE: unknown[][];
}

const TOTALS = /\n?\s*Total:\s+(\d+)\s*\n\s*Passed:\s+(\d+)\s*\n\s*Skipped:\s+(\d+)\s*\n\s*Duration:[^\n]*\n*$/;

async function runFile(uvu: { exec(bail?: boolean): Promise<void> }, name: string, file: string): Promise<FileResult> {
  const t0 = Date.now();
  const skipsBefore = skipped.length;
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    // uvu keeps one queue for the process: a fresh one per file.
    globalThis.UVU_QUEUE.length = 0;
    globalThis.UVU_INDEX = 0;
    globalThis.UVU_QUEUE.push([name]);
    await import('file:///' + file);
    await uvu.exec(false);
  } catch (err) {
    // The file did not load (a syntax or import error): one failure, with why.
    out = `${name}\n   FAIL  ${name} did not load\n    ${String((err as Error)?.stack ?? err)}\n  Total:     1\n  Passed:    0\n  Skipped:   0\n  Duration:  0ms\n`;
  } finally {
    process.stdout.write = write;
  }
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const m = TOTALS.exec(plain);
  return {
    file: name,
    output: m ? out.slice(0, out.length - (plain.length - m.index)) : out,
    total: m ? Number(m[1]) : NaN,
    passed: m ? Number(m[2]) : NaN,
    skips: m ? Number(m[3]) : NaN,
    skipped: skipped.slice(skipsBefore),
    ms: Date.now() - t0,
  };
}

/** Serve files until told to stop: {name, file} in, FileResult out. */
async function serve(): Promise<void> {
  globalThis.UVU_DEFER = 1;
  globalThis.UVU_QUEUE = globalThis.UVU_QUEUE || [];
  const uvu = await import('uvu');
  let chain = Promise.resolve();
  process.on('message', (msg: { name: string; file: string } | 'stop') => {
    chain = chain.then(async () => {
      // A handle a failed test left open (a timer, a socket) must not keep the run waiting.
      if (msg === 'stop') process.exit(0);
      process.send!(await runFile(uvu, msg.name, msg.file));
    });
  });
  process.send!('ready');
}

await serve();
