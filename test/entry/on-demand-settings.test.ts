// An engine a CLI verb starts on demand takes its settings from config.json only: a one-off
// variable on that command does not stick for the engine's life. `banger --detach` is an
// explicit start and keeps them. `status` says where each non-default setting came from.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { tmpState } from '../helpers/tmp.js';
import { lockHolder } from '../../app/control/lock.js';
import type { EngineStatus } from '../../app/contract/api.js';

test('on demand: config.json only (the CLI says what it ignored); --detach: the environment too', async () => {
  const t = tmpState('banger-ondemand-');
  const stopAll = async () => {
    await cli(['engine', 'stop'], t.env, { settingsAsConfig: false });
    const holder = lockHolder(t.paths.engineLock);
    if (holder) process.kill(holder, 'SIGKILL');
  };
  try {
    writeFileSync(t.paths.configFile, JSON.stringify({ network: 'none', dnsAddr: '127.0.0.1:0', stopTimeoutMs: 3000 }));
    const oneOff = { ...t.env, BANGER_STOP_TIMEOUT_MS: '1234', FIRECRACKER_BIN: '/one/off/firecracker' };
    const ls = await cli(['vm', 'ls', '--json'], oneOff, { settingsAsConfig: false });
    assert.is(ls.code, 0, ls.stderr);
    assert.match(ls.stderr, /started the engine in the background/);
    assert.match(ls.stderr, /ignored from the environment: .*FIRECRACKER_BIN/);
    assert.match(ls.stderr, /BANGER_STOP_TIMEOUT_MS/);

    const st = await cli(['status', '--json'], t.env, { settingsAsConfig: false });
    const s = JSON.parse(st.stdout) as EngineStatus;
    assert.equal(
      Object.fromEntries((s.settings ?? []).map((x) => [x.key, [x.value, x.source]])),
      { dnsAddr: ['127.0.0.1:0', 'config'], network: ['none', 'config'], stopTimeoutMs: [3000, 'config'] },
      'nothing from the environment of the CLI that started it',
    );
    const environ = readFileSync(`/proc/${s.pid}/environ`, 'latin1');
    assert.not.match(environ, 'FIRECRACKER_BIN=');
    assert.not.match(environ, 'BANGER_STOP_TIMEOUT_MS=');
    assert.match(environ, `BANGER_STATE_DIR=${t.env.BANGER_STATE_DIR}`, 'paths still say which engine it is');
    const human = await cli(['status'], t.env, { settingsAsConfig: false });
    assert.match(
      human.stdout,
      /settings\s+dnsAddr="127\.0\.0\.1:0" \(config\), network="none" \(config\), stopTimeoutMs=3000 \(config\)/,
    );
    await stopAll();

    const d = await cli(['--detach'], oneOff, { settingsAsConfig: false });
    assert.is(d.code, 0, d.stderr);
    const s2 = JSON.parse((await cli(['status', '--json'], t.env, { settingsAsConfig: false })).stdout) as EngineStatus;
    const by = Object.fromEntries((s2.settings ?? []).map((x) => [x.key, [x.value, x.source]]));
    assert.equal(by.stopTimeoutMs, [1234, 'env'], '--detach keeps the environment it was started with');
    assert.equal(by.firecrackerBin, ['/one/off/firecracker', 'env']);
    assert.equal(by.network, ['none', 'env']);
  } finally {
    await stopAll();
    t.cleanup();
  }
});

test.run();
