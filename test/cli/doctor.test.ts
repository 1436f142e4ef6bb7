// banger doctor checks the host from the CLI process: no engine is started for it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { tmpState } from '../helpers/tmp.js';
import { lockHolder } from '../../app/control/lock.js';
import { ping } from '../../app/control/client.js';
import { runIf } from '../helpers/skip.js';
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

const SBIN_TOOLS = ['nft', 'mkfs.ext4', 'debugfs', 'resize2fs'].filter((b) => existsSync(`/usr/sbin/${b}`));
runIf(test, SBIN_TOOLS.length ? null : 'none of nft, mkfs.ext4, debugfs, resize2fs is in /usr/sbin here')(
  'doctor finds the sbin tools with a PATH that lacks the sbin dirs (a Debian user), as the engine does',
  async () => {
    const tools = SBIN_TOOLS;
    const t = tmpState('banger-doctor-path-');
    try {
      const r = await cli(['doctor', '--json'], {
        ...t.env,
        FIRECRACKER_BIN: '/nonexistent/firecracker',
        PATH: '/usr/local/bin:/usr/bin:/bin',
      });
      assert.is(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as DoctorReport;
      for (const bin of tools) {
        const c = report.checks.find((x) => x.name === bin);
        assert.is(c?.ok, true, `${bin}: ${c?.detail}`);
        assert.match(c!.detail, /^\/usr\/sbin\//);
      }
    } finally {
      t.cleanup();
    }
  },
);

test.run();
