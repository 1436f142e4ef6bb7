import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseHostPort, DEFAULT_CONFIG } from '../../app/engine/config.js';
import { tmpState } from '../helpers/tmp.js';

test('defaults, then config.json, then the environment', () => {
  const t = tmpState();
  try {
    assert.is(loadConfig(t.paths, {}).dnsAddr, DEFAULT_CONFIG.dnsAddr);
    writeFileSync(t.paths.configFile, JSON.stringify({ dnsZone: 'Lab.', stopTimeoutMs: 2500, bridge: 'br9' }));
    const c = loadConfig(t.paths, { BANGER_BRIDGE: 'br7' });
    assert.is(c.dnsZone, 'lab', 'zone folded and without the trailing dot');
    assert.is(c.stopTimeoutMs, 2500);
    assert.is(c.bridge, 'br7', 'the environment wins');
    assert.is(loadConfig(t.paths, { FIRECRACKER_BIN: '/opt/fc' }).firecrackerBin, '/opt/fc');
    assert.is(DEFAULT_CONFIG.kvmPath, '/dev/kvm');
    assert.is(loadConfig(t.paths, { BANGER_KVM_PATH: '/tmp/kvm-stand-in' }).kvmPath, '/tmp/kvm-stand-in');
  } finally {
    t.cleanup();
  }
});

test('bad settings are refused with E_INVALID_ARGUMENT and a message naming the key', () => {
  const t = tmpState();
  try {
    writeFileSync(join(t.paths.configFile), JSON.stringify({ nope: 1 }));
    assert.throws(
      () => loadConfig(t.paths, {}),
      (e: Error & { code?: string }) => e.code === 'E_INVALID_ARGUMENT' && /unknown key "nope"/.test(e.message),
    );
    writeFileSync(t.paths.configFile, '{}');
    assert.throws(() => loadConfig(t.paths, { BANGER_QEMU_ACCEL: 'hvf' }), /qemuAccel/);
    assert.throws(() => loadConfig(t.paths, { BANGER_NETWORK: 'host' }), /network/);
    assert.throws(() => loadConfig(t.paths, { BANGER_STOP_TIMEOUT_MS: 'soon' }), /stopTimeoutMs/);
    writeFileSync(t.paths.configFile, '{not json');
    assert.throws(
      () => loadConfig(t.paths, {}),
      (e: Error & { code?: string }) => e.code === 'E_INVALID_ARGUMENT',
    );
  } finally {
    t.cleanup();
  }
});

test('HOST:PORT parsing', () => {
  assert.equal(parseHostPort('127.0.0.1:42069'), { host: '127.0.0.1', port: 42069 });
  assert.equal(parseHostPort('[::1]:53'), { host: '::1', port: 53 });
  assert.throws(() => parseHostPort('127.0.0.1'), /HOST:PORT/);
  assert.throws(() => parseHostPort('127.0.0.1:70000'), /out of range/);
});

test.run();
