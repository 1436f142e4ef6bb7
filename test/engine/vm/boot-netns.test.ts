// Boot failures with real host networking: run inside a throwaway network namespace so every
// bridge, TAP and private address lives and dies there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../helpers/cli.js';
import { NEEDS_ROOT, runIf } from '../../helpers/skip.js';

const ns = `banger-boot-${process.pid}`;

runIf(test, NEEDS_ROOT)(
  'a failure at each boot step after the network leaves no TAP, no new lease, no runtime files',
  () => {
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const r = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'test/engine/vm/fixtures/boot-failures-in-netns.ts'),
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
      );
      const line = r.stdout.trim().split('\n').pop() ?? '';
      const res = JSON.parse(line || '{}');
      assert.is(res.error, undefined, res.error);
      assert.match(res.running.ip, /^172\.30\.0\.\d+$/);
      assert.equal(res.running.taps, [res.running.tap], 'one TAP while running');
      assert.is(res.running.leases, 1);
      assert.equal(res.stopped.taps, [], 'TAP removed on stop');
      assert.is(res.stopped.leaseKept, res.running.ip, 'the lease is sticky across stop');
      assert.is(res.removed.leases, 0, 'released on delete');
      assert.is(res.failures.length, 6);
      for (const f of res.failures) {
        assert.match(f.message, `boot step "${f.step === 'network-interfaces' ? 'network' : f.step}" failed`, f.step);
        assert.is(f.state, 'error', f.step);
        assert.equal(f.taps, [], `${f.step}: no TAP left`);
        assert.is(f.leases, 0, `${f.step}: the new lease was undone`);
        assert.is(f.runtimeDirLeft, false, `${f.step}: no socket/FIFO left`);
      }
    } finally {
      spawnSync('ip', ['netns', 'delete', ns]);
    }
  },
);

test.run();
