// The console log cap holds at the source (issue 15): with no engine running, a guest that
// prints a megabyte leaves a console.log under the cap, ending with its latest output; a new
// engine adopts the VM and its console as usual.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enginePids, json, simPids, svcState, until, type Svc } from './helpers.js';

const CAP = 64 * 1024;
let s: Svc;
test.before(() => {
  s = svcState({ env: { BANGER_CONSOLE_LOG_MAX: String(CAP) } });
});
test.after(async () => {
  await s.cleanup();
});

test('with no engine running, a flood of console output stays under the cap', async () => {
  const c = await s.banger(['vm', 'create', 'chatty', '--disk', '64M', '--start', '--json']);
  assert.is(c.code, 0, c.stderr);
  const vm = json<{ id: string; pid: number }>(c);
  assert.is((await s.banger(['engine', 'stop'])).code, 0);
  await until(() => enginePids(s.root).length === 0, 10_000, 'engine gone');
  assert.equal(simPids(s.root), [vm.pid], 'the VM outlives the engine');

  // The guest echoes what it is sent, then complains about it: about 1 MiB of output.
  const log = join(s.paths.vmsDir, vm.id, 'console.log');
  const fifo = join(s.paths.runtimeDir, 'vms', vm.id, 'console.in');
  writeFileSync(fifo, 'x'.repeat(512 * 1024) + 'END\r');
  await until(() => /xEND: not found/.test(readFileSync(log, 'latin1')), 30_000, 'the guest to answer');
  const size = statSync(log).size;
  assert.ok(size <= CAP, `console.log is ${size} bytes, over the ${CAP}-byte cap`);
  assert.ok(size >= CAP / 4, 'the latest output is kept');

  // A new engine adopts it; the console still works.
  const ls = await s.banger(['vm', 'ls', '--json']);
  assert.is(json<{ state: string }[]>(ls)[0].state, 'running');
  assert.is((await s.banger(['vm', 'stop', 'chatty'])).code, 0);
});

test.run();
