// banger doctor checks the host from the CLI process: no engine is started for it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { tmpState } from '../helpers/tmp.js';
import { lockHolder } from '../../app/control/lock.js';
import { ping } from '../../app/control/client.js';
import type { DoctorReport } from '../../app/contract/api.js';

test('doctor with no engine running reports the host and starts none', async () => {
  const t = tmpState('banger-doctor-');
  try {
    const r = await cli(['doctor', '--json'], { ...t.env, FIRECRACKER_BIN: '/nonexistent/firecracker' });
    const leftOver = await ping(t.paths.controlSocket, { timeoutMs: 500 });
    if (leftOver) process.kill(leftOver.pid, 'SIGTERM'); // the old behaviour: an engine started
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stderr, /started the engine/);
    assert.is(leftOver, null, 'no engine answers');
    assert.is(lockHolder(t.paths.engineLock), null, 'no engine holds the lock');
    assert.not.ok(existsSync(t.paths.controlSocket));
    const report = JSON.parse(r.stdout) as DoctorReport;
    const fc = report.checks.find((c) => c.name === 'backend firecracker');
    assert.is(fc?.ok, false, 'the settings this CLI sees are the ones checked');
    assert.match(fc!.detail, '/nonexistent/firecracker');
    assert.ok(report.checks.some((c) => c.name === 'default backend'));
    assert.ok(report.checks.some((c) => c.name === '/dev/kvm'));
  } finally {
    t.cleanup();
  }
});

test.run();
