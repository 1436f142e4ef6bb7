// A lock left over from before a reboot names a pid that now belongs to a system daemon:
// `banger vm ls` must take the lock over and answer, not wait for a "running" engine and
// fail with E_ENGINE_UNAVAILABLE. Real processes; the old-format lock ("PID" only) and a
// new-format one from another boot both count as stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { enginePids, svcState, type Svc } from './helpers.js';

let s: Svc;
test.before(() => {
  s = svcState();
});
test.after(async () => {
  await s.cleanup();
});

for (const [label, content] of [
  ['a plain "1" from an older build', '1\n'],
  ['pid 1 from another boot', '1 1 00000000-0000-4000-8000-000000000000\n'],
] as const) {
  test(`stale lock (${label}): vm ls starts an engine and answers promptly`, async () => {
    writeFileSync(s.paths.engineLock, content);
    // Written before this boot, as a lock surviving a reboot would be.
    utimesSync(s.paths.engineLock, 1_000_000, 1_000_000);
    const r = await s.banger(['vm', 'ls'], { timeoutMs: 20_000 });
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stderr, 'E_ENGINE_UNAVAILABLE');
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
    const [pid] = enginePids(s.root);
    assert.ok(pid, 'an engine runs');
    assert.match(
      readFileSync(s.paths.engineLock, 'utf8'),
      new RegExp(`^${pid} \\d+ [0-9a-f-]{36}\\n$`),
      'the lock now names it',
    );
    const stop = await s.banger(['engine', 'stop']);
    assert.is(stop.code, 0, stop.stderr);
  });
}

test.run();
