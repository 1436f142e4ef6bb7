// The embedded service stopped once: `engine stop` (shutdown) closes the engine and the service
// around it closes it again; the log says "engine stopped" once (issue 25 #7).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService } from '../../app/entry/serve.js';
import { tmpState } from '../helpers/tmp.js';
import { ROOT } from '../helpers/cli.js';

test('one stop, one "engine stopped" line', async () => {
  const t = tmpState('banger-serve-stop-');
  try {
    const env = {
      ...process.env,
      ...t.env,
      FIRECRACKER_BIN: join(ROOT, 'test', 'fixtures', 'firecracker-sim'),
      BANGER_BACKEND: 'firecracker',
      BANGER_BUILD_ID: `serve-stop-${process.pid}`,
    };
    const svc = await startService('embedded', env);
    await svc.engine.shutdown({ stopVms: true });
    await svc.ended;
    assert.is(svc.endReason, 'shutdown');
    const lines = readFileSync(t.paths.engineLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes('engine stopped'));
    assert.is(lines.length, 1, lines.join('\n'));
  } finally {
    t.cleanup();
  }
});

test.run();
