// The test runner: uvu over every test/**/*.test.ts (or those whose path matches the pattern in
// argv[2]), then the skipped tests grouped by reason and one closing line
// "N passed, N failed, N skipped" that CI reads.
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';
import { skipped } from './helpers/skip.js';

const filter = process.argv[2] ? new RegExp(process.argv[2], 'i') : null;
const ctx = await parse(import.meta.dirname, /\.test\.ts$/);
const suites = ctx.suites.filter((s) => !filter || filter.test(s.name));

// uvu prints its totals and keeps them to itself: read them off what it writes.
let tail = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  tail = (tail + String(chunk)).slice(-4096);
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

await run(suites, { bail: false });

const plain = tail.replace(/\x1b\[[0-9;]*m/g, '');
const count = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? NaN);
const [total, passed, skips] = [count('Total'), count('Passed'), count('Skipped')];

if (skipped.length) {
  const byReason = new Map<string, string[]>();
  for (const s of skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.name]);
  write(`Skipped, by reason:\n`);
  for (const [reason, names] of byReason) {
    write(`  ${names.length} - ${reason}\n`);
    for (const n of names) write(`      ${n}\n`);
  }
}
if (Number.isNaN(total)) {
  write('test/run.ts: could not read the totals uvu printed\n');
  process.exitCode = 1;
} else {
  write(`\n${passed} passed, ${total - passed} failed, ${skips} skipped\n`);
  if (total - passed > 0) process.exitCode = 1;
}
// A handle a failed test left open (a timer, a socket) must not keep CI waiting.
process.exit();
