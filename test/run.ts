// The test runner: uvu over every test/**/*.test.ts (or those whose path matches the pattern in
// argv[2]), the files spread over worker processes (one per core plus one: about half of a
// file's time is waiting on guests and child processes; --jobs N or BANGER_TEST_JOBS=N, 1 for
// one process as before), then the skipped tests grouped by reason and
// the slowest 15 files with their wall time, and one closing line "N passed, N failed, N
// skipped" that CI reads. A file that shares host state says `// test-run: alone (why)` (nothing
// beside it) or `// test-run: group NAME... (why)` (never beside a file of the same group).
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parse } from 'uvu/parse';
import type { FileResult } from './runner/worker.js';
import { classify, longestFirst, readTimes, writeTimes, type TestFile } from './runner/schedule.js';

const ROOT = join(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const jobsArg = argv.indexOf('--jobs');
const jobs = Math.max(
  1,
  Number(jobsArg >= 0 ? argv.splice(jobsArg, 2)[1] : process.env.BANGER_TEST_JOBS) || availableParallelism() + 1,
);
const filter = argv[0] ? new RegExp(argv[0], 'i') : null;
const write = (s: string) => process.stdout.write(s);

const results: FileResult[] = [];

const busyGroups = new Set<string>();

/** The next file none of whose groups is running now (a worker with none left to take stops). */
function takeNext(queue: TestFile[]): TestFile | null {
  const i = queue.findIndex((f) => f.groups.every((g) => !busyGroups.has(g)));
  return i < 0 ? null : queue.splice(i, 1)[0];
}

const hold = (f: TestFile | null, on: boolean) =>
  f?.groups.forEach((g) => (on ? busyGroups.add(g) : busyGroups.delete(g)));

/** Run `files` on `n` workers, each taking the next file when it is done with one. */
function pool(files: TestFile[], n: number): Promise<void> {
  const queue = [...files];
  const worker = (): Promise<void> =>
    new Promise((resolve) => {
      if (!queue.length) return resolve();
      const child: ChildProcess = fork(join(import.meta.dirname, 'runner', 'worker.ts'), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      });
      let current: TestFile | null = null;
      const next = () => {
        hold(current, false);
        current = takeNext(queue);
        hold(current, true);
        if (current) child.send({ name: current.name, file: current.file });
        else child.send('stop');
      };
      child.on('message', (m: FileResult | 'ready') => {
        if (m !== 'ready') report(m);
        next();
      });
      child.on('exit', (code, signal) => {
        if (!current) return resolve(); // it was told to stop
        // Died mid-file: that file fails, a new worker takes the rest.
        report(died(current, code, signal));
        hold(current, false);
        void worker().then(resolve);
      });
    });
  return Promise.all(Array.from({ length: Math.min(n, files.length) }, worker)).then(() => {});
}

function died(f: TestFile, code: number | null, signal: string | null): FileResult {
  const why = `   FAIL  ${f.name}: its worker exited (${signal ?? `code ${code}`}) before the file finished\n`;
  return { file: f.name, output: `${f.name}\n${why}`, total: 1, passed: 0, skips: 0, skipped: [], ms: 0 };
}

function report(r: FileResult): void {
  results.push(r);
  write(r.output.replace(/^\n+/, '').replace(/\n*$/, '\n\n'));
  if (Number.isNaN(r.total)) write(`test/run.ts: could not read the totals uvu printed for ${r.file}\n`);
}

function summary(ms: number): void {
  const sum = (k: 'total' | 'passed' | 'skips') => results.reduce((a, r) => a + (Number.isNaN(r[k]) ? 0 : r[k]), 0);
  const [total, passed, skips] = [sum('total'), sum('passed'), sum('skips')];
  const unread = results.some((r) => Number.isNaN(r.total));
  write(
    `\n  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skips}\n  Duration:  ${ms}ms (${jobs} jobs)\n\n`,
  );
  const byReason = new Map<string, string[]>();
  for (const s of results.flatMap((r) => r.skipped))
    byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.name]);
  if (byReason.size) {
    write(`Skipped, by reason:\n`);
    for (const [reason, names] of byReason) {
      write(`  ${names.length} - ${reason}\n`);
      for (const n of names) write(`      ${n}\n`);
    }
  }
  slowest(15);
  // uvu's total leaves the skipped out.
  const failed = total - passed + (unread ? 1 : 0);
  write(`\n${passed} passed, ${failed} failed, ${skips} skipped\n`);
  if (failed > 0) process.exitCode = 1;
}

/** The n files that took longest (wall time each, in its worker): where the suite's time goes. */
function slowest(n: number): void {
  const top = [...results].sort((a, b) => b.ms - a.ms).slice(0, n);
  if (!top.length) return;
  write(`\nSlowest files (wall time):\n`);
  for (const r of top) write(`  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.file}\n`);
}

const t0 = Date.now();
// BANGER_TEST_DIR: another tree of test files (the runner's own test).
const dir = process.env.BANGER_TEST_DIR || import.meta.dirname;
const ctx = await parse(dir, /\.test\.ts$/);
const files = classify(ctx.suites.filter((s) => !filter || filter.test(s.name)));
const ordered = longestFirst(files, readTimes(ROOT));
await pool(
  ordered.filter((f) => !f.alone),
  jobs,
);
await pool(
  ordered.filter((f) => f.alone),
  1,
);
summary(Date.now() - t0);
if (dir === import.meta.dirname) writeTimes(ROOT, Object.fromEntries(results.map((r) => [r.file, r.ms])));
process.exit();
