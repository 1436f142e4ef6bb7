// The process runner (app/base/process.ts run()): output, input, exit codes, timeouts,
// cancellation and spawn failures, against real commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRunner } from '../../app/base/process.js';
import { BangerError } from '../../app/base/errors.js';

const runner = createRunner();
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof BangerError ? e.code : String(e)),
  );

test('stdout and stderr are captured whole, trailing newline kept', async () => {
  const r = await runner.run(['sh', '-c', 'printf "a\\nb\\n"; printf "err\\n" >&2']);
  assert.equal([r.stdout, r.stderr, r.exitCode], ['a\nb\n', 'err\n', 0]);
  assert.equal(r.argv, ['sh', '-c', 'printf "a\\nb\\n"; printf "err\\n" >&2']);
});

test('input goes to stdin; without input stdin is at EOF (nothing waits on it)', async () => {
  assert.is((await runner.run(['cat'], { input: 'hello ✓' })).stdout, 'hello ✓');
  assert.is((await runner.run(['cat'], { timeoutMs: 5000 })).stdout, '');
});

test('a non-zero exit throws E_COMMAND_FAILED with the tail of stderr; reject: false returns it', async () => {
  const err = await runner.run(['sh', '-c', 'echo boom >&2; exit 3']).catch((e: BangerError) => e);
  assert.instance(err, BangerError);
  assert.is((err as BangerError).code, 'E_COMMAND_FAILED');
  assert.match((err as BangerError).message, /exit 3\): boom/);
  const r = await runner.run(['sh', '-c', 'exit 4'], { reject: false });
  assert.is(r.exitCode, 4);
});

test('a missing binary is a clear error, not a crash', async () => {
  const err = await runner.run(['/nonexistent/banger-no-such-bin']).catch((e: BangerError) => e);
  assert.is((err as BangerError).code, 'E_COMMAND_FAILED');
  assert.match((err as BangerError).message, /cannot run \/nonexistent\/banger-no-such-bin/);
});

test('timeout kills the command and says so', async () => {
  const t0 = Date.now();
  assert.is(await code(runner.run(['sleep', '30'], { timeoutMs: 200 })), 'E_TIMEOUT');
  assert.ok(Date.now() - t0 < 5000, 'did not wait for sleep');
});

test('an abort signal cancels a running command, and one already aborted runs nothing', async () => {
  const ac = new AbortController();
  const p = runner.run(['sleep', '30'], { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  assert.is(await code(p), 'E_CANCELLED');
  assert.is(await code(runner.run(['sh', '-c', 'exit 0'], { signal: AbortSignal.abort() })), 'E_CANCELLED');
});

test('env extends the environment; cwd is honoured; onOutput sees the output as it comes', async () => {
  const seen: string[] = [];
  const r = await runner.run(['sh', '-c', 'echo "$BANGER_T_X $HOME"; pwd'], {
    env: { BANGER_T_X: 'x1' },
    cwd: '/tmp',
    onOutput: (c) => seen.push(c),
  });
  assert.is(r.stdout, `x1 ${process.env.HOME}\n/tmp\n`);
  assert.is(seen.join(''), r.stdout);
});

test.run();
