// scripts/setup's output (issue 25 #8): one line per step, the commands' output in a log file,
// and on a failure the step's last log lines, where the log is, and the step's exit code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect } from '../helpers/collect.js';
import { ROOT } from '../helpers/cli.js';
import { TmuxSession } from '../screens/tmux.js';

const LIB = join(ROOT, 'scripts', 'setup-steps.sh');
const NOISY = 'for i in $(seq 1 200); do echo "apt says line $i"; done';

function script(log: string): string {
  return [
    `SETUP_LOG=${log}`,
    `. ${LIB}`,
    `step "first" sh -c '${NOISY}'`,
    `step "second" sh -c 'echo "compiling the thing"; echo "E: broken package" >&2; exit 7'`,
    `step "third" echo never`,
  ].join('\n');
}

test('piped: one line per step, output only in the log, the tail and exit code on failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-setup-'));
  try {
    const log = join(dir, 'state', 'setup.log');
    const r = await collect(['bash', '-c', script(log)], { cwd: ROOT, timeoutMs: 20_000 });
    assert.is(r.code, 7);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ ✓ first \(\d+s\)$/);
    assert.match(lines[1]!, /^ ✗ second failed \(exit 7 after \d+s\); the last lines of its log:$/);
    assert.equal(lines.slice(2, 4), ['   | compiling the thing', '   | E: broken package']);
    assert.is(lines[4], ` full log: ${log}`);
    assert.is(lines.length, 5, 'nothing of the first step, and the third never ran');
    assert.not.match(r.stdout, /apt says/);
    assert.is(r.stderr, '');
    const text = readFileSync(log, 'utf8');
    assert.match(text, /apt says line 200/);
    assert.match(text, /E: broken package/);
    assert.not.match(text, /never/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on a terminal: a spinner line rewritten in place, then one line per step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-setup-'));
  writeFileSync(
    join(dir, 'run.sh'),
    [
      `SETUP_LOG=${join(dir, 'setup.log')}`,
      `. ${LIB}`,
      `step "slow" sh -c 'echo "phase one"; sleep 1.5; echo "phase two"'`,
    ].join('\n'),
  );
  const t = TmuxSession.start(`banger-setup-${process.pid}`, `bash ${join(dir, 'run.sh')}`, { width: 100, height: 20 });
  try {
    // The step's latest log line beside the spinner while it runs.
    const running = await t.waitFor(/^ [|/\\-] slow {2}phase one/m, 5000, 'spinner');
    assert.not.match(running, /✓/);
    const done = await t.waitFor(/\[exited 0\]/, 8000, 'done');
    const shown = done.split('\n').filter((l) => l.trim());
    assert.match(shown[0]!, /^ ✓ slow \(\d+s\)$/);
    assert.match(shown[1]!, /\[exited 0\]/, 'the spinner line was replaced, not left behind');
  } catch (err) {
    t.saveAll();
    throw err;
  } finally {
    t.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scripts/setup runs its steps through the step runner (no raw apt or npm output)', () => {
  const text = readFileSync(join(ROOT, 'scripts', 'setup'), 'utf8');
  assert.match(text, /\. scripts\/setup-steps\.sh/);
  for (const cmd of ['install-system-packages"?$', 'npm ci', 'npm run build', 'image build', 'kernel fetch']) {
    const line = text
      .split('\n')
      .find((l) => new RegExp(cmd.replace(/"\?\$$/, '')).test(l) && !l.includes('--list-missing'));
    assert.ok(line && /\bstep "/.test(line), `${cmd} runs as a step: ${line}`);
  }
});

test.run();
