import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBaseDirs, resolvePaths } from '../../app/base/paths.js';

test('XDG base dirs are followed, and BANGER_* variables override each', () => {
  const p = resolvePaths({
    HOME: '/h',
    XDG_STATE_HOME: '/xs',
    XDG_CONFIG_HOME: '/xc',
    XDG_CACHE_HOME: '/xk',
    XDG_RUNTIME_DIR: '/run/user/7',
  });
  assert.is(p.stateDir, '/xs/banger');
  assert.is(p.configDir, '/xc/banger');
  assert.is(p.cacheDir, '/xk/banger');
  assert.match(p.runtimeDir, /^\/run\/user\/7\/banger\/[0-9a-f]{8}$/);
  assert.is(p.dbFile, '/xs/banger/banger.db');
  assert.is(p.controlSocket, `${p.runtimeDir}/engine.sock`);
  const d = resolvePaths({ HOME: '/h' });
  assert.is(d.stateDir, '/h/.local/state/banger');
  assert.is(d.configDir, '/h/.config/banger');
  const o = resolvePaths({
    HOME: '/h',
    BANGER_STATE_DIR: '/s',
    BANGER_CONFIG_DIR: '/c',
    BANGER_CACHE_DIR: '/k',
    BANGER_RUNTIME_DIR: '/r',
  });
  assert.equal([o.stateDir, o.configDir, o.cacheDir, o.runtimeDir], ['/s', '/c', '/k', '/r']);
});

test('two state dirs never share a runtime dir (control socket)', () => {
  const a = resolvePaths({ HOME: '/h', BANGER_STATE_DIR: '/a', XDG_RUNTIME_DIR: '/run/user/7' });
  const b = resolvePaths({ HOME: '/h', BANGER_STATE_DIR: '/b', XDG_RUNTIME_DIR: '/run/user/7' });
  assert.is.not(a.controlSocket, b.controlSocket);
  assert.is(
    resolvePaths({ HOME: '/h', BANGER_STATE_DIR: '/a', XDG_RUNTIME_DIR: '/run/user/7' }).runtimeDir,
    a.runtimeDir,
    'stable',
  );
});

test('the base dirs are created owner-only (0700), even when they existed wider', () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-paths-'));
  try {
    const p = resolvePaths({ HOME: root, BANGER_RUNTIME_DIR: join(root, 'run') });
    ensureBaseDirs(p);
    for (const d of [
      p.stateDir,
      p.configDir,
      p.cacheDir,
      p.runtimeDir,
      p.vmsDir,
      p.imagesDir,
      p.kernelsDir,
      p.keysDir,
    ]) {
      assert.is(statSync(d).mode & 0o777, 0o700, d);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
