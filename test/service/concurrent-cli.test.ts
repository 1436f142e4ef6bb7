// 50 CLI processes at once against one detached engine: every one attaches to that engine
// (none starts another), succeeds, and sees the same records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { enginePids, json, svcState, type Svc } from './helpers.js';

interface Vm {
  name: string;
  state: string;
  pid: number | null;
}

let s: Svc;
test.before(() => {
  s = svcState();
});
test.after(async () => {
  await s.cleanup();
});

test('50 concurrent `banger vm ls --json` all succeed against one engine', async () => {
  const d = await s.banger(['--detach']);
  assert.is(d.code, 0, d.stderr);
  const enginePid = Number(/pid (\d+)/.exec(d.stdout)![1]);
  for (const n of ['one', 'two']) {
    const r = await s.banger(['vm', 'create', n, '--disk', '64M', ...(n === 'one' ? ['--start'] : [])]);
    assert.is(r.code, 0, r.stderr);
  }
  const expected = json<Vm[]>(await s.banger(['vm', 'ls', '--json'])).map((v) => [v.name, v.state, v.pid]);
  assert.is(expected.length, 2);

  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: 50 }, () => s.banger(['vm', 'ls', '--json'], { timeoutMs: 90_000 })),
  );
  const wall = Date.now() - started;
  if (process.env.SVC_TRACE) {
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    process.stderr.write(`50 concurrent vm ls: wall ${wall} ms, per call median ${ms[25]} ms, max ${ms[49]} ms\n`);
  }
  for (const r of results) {
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stderr, '', 'attached quietly: no engine was started, nothing went wrong');
    assert.equal(
      json<Vm[]>(r).map((v) => [v.name, v.state, v.pid]),
      expected,
    );
  }
  assert.equal(enginePids(s.root), [enginePid]);
  assert.not.match(readFileSync(s.paths.engineLog, 'utf8'), /E_ENGINE_RUNNING|ERROR/);
  const stop = await s.banger(['engine', 'stop', '--stop-vms']);
  assert.is(stop.code, 0, stop.stderr);
});

test.run();
