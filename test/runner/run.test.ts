// The parallel runner (test/run.ts) over a tree of made-up test files: the same counts and
// closing line with one job or two, files really side by side with two, a file marked alone
// with nothing beside it, two files of one group never side by side (nor a file of two groups
// beside either), the slowest files listed, and a file whose process dies counted as failed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { collect } from '../helpers/collect.js';

mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
// Inside the checkout (test-artifacts/ is ignored), so the files resolve uvu from its node_modules.
const dir = mkdtempSync(join(ROOT, 'test-artifacts', 'runner-'));
const log = join(dir, 'spans.log');
const skip = join(ROOT, 'test', 'helpers', 'skip.ts');

/** A test file that logs when it ran (name start end) around `body`. */
function file(name: string, body: string, head = ''): void {
  writeFileSync(
    join(dir, `${name}.test.ts`),
    `${head}import { test } from 'uvu';\nimport * as assert from 'uvu/assert';\nimport { appendFileSync } from 'node:fs';\nimport { runIf } from '${skip}';\nvoid assert; void runIf;\nconst t0 = Date.now();\n${body}\ntest('span', () => { appendFileSync('${log}', '${name} ' + t0 + ' ' + Date.now() + '\\n'); });\ntest.run();\n`,
  );
}
const sleep = (ms: number) => `test('sleeps', () => new Promise((r) => setTimeout(r, ${ms})));`;
file('pass', `test('one', () => assert.ok(true));`);
file('fail', `test('bad', () => assert.is(1, 2));`);
file('skips', `runIf(test, 'a reason')('skipped one', () => {});`);
// The biggest files (the runner's first guess at the longest): the two jobs start with them.
const big = `// ${'x'.repeat(8000)}\n`;
file('slow1', sleep(1500), big);
file('slow2', sleep(1500), big);
file('alone', sleep(300), '// test-run: alone (the runner test)\n');
file('group1', sleep(700), '// test-run: group g (the runner test)\n');
file('group2', sleep(700), '// test-run: group g (the runner test)\n');
file('multi', sleep(400), '// test-run: group g h (the runner test)\n');
file('hOnly', sleep(400), '// test-run: group h (the runner test)\n');
writeFileSync(
  join(dir, 'dies.test.ts'),
  `import { test } from 'uvu';\ntest('dies', () => process.exit(3));\ntest.run();\n`,
);

async function run(jobs: number): Promise<{ out: string; spans: Map<string, [number, number]> }> {
  writeFileSync(log, '');
  const r = await collect([process.execPath, '--import', 'tsx', join(ROOT, 'test', 'run.ts'), '--jobs', String(jobs)], {
    cwd: ROOT,
    env: { ...process.env, BANGER_TEST_DIR: dir },
  });
  assert.is(r.code, 1, 'a failed file fails the run');
  const spans = new Map<string, [number, number]>();
  for (const l of readFileSync(log, 'utf8').trim().split('\n')) {
    const [n, a, b] = l.split(' ');
    spans.set(n, [Number(a), Number(b)]);
  }
  return { out: r.stdout, spans };
}

const overlap = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];

for (const jobs of [1, 2]) {
  test(`--jobs ${jobs}: every file counted, one closing line`, async () => {
    const { out, spans } = await run(jobs);
    assert.match(out, /\n18 passed, 2 failed, 1 skipped\n$/, out);
    assert.match(
      out,
      /\nSlowest files \(wall time\):\n +\d+\.\d s {2}slow\d\.test\.ts\n/,
      'the slowest files, longest first',
    );
    assert.match(out, /dies\.test\.ts: its worker exited \(code 3\)/);
    assert.match(out, /Skipped, by reason:\n {2}1 - a reason\n {6}skipped one\n/);
    assert.is(spans.size, 10);
    const apart = (a: string, b: string) => assert.not.ok(overlap(spans.get(a)!, spans.get(b)!), `${a} beside ${b}`);
    apart('group1', 'group2');
    apart('multi', 'group1');
    apart('multi', 'group2');
    apart('multi', 'hOnly');
    for (const [name, span] of spans)
      if (name !== 'alone') assert.not.ok(overlap(span, spans.get('alone')!), `${name} ran beside the alone file`);
    // Two jobs: the two slow files side by side; one job: one after the other.
    assert.is(overlap(spans.get('slow1')!, spans.get('slow2')!), jobs === 2);
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
