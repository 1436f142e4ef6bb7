import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testCacheDir } from './cache.js';

test('the test cache is created 0700 and refused when others can write it or it is a symlink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-cache-test-'));
  try {
    const fresh = testCacheDir({ BANGER_TEST_CACHE_DIR: join(dir, 'c') });
    assert.is(statSync(fresh).mode & 0o777, 0o700);
    assert.is(testCacheDir({ XDG_CACHE_HOME: dir }), join(dir, 'banger-test'));

    const planted = join(dir, 'planted');
    mkdirSync(planted);
    chmodSync(planted, 0o1777);
    assert.throws(() => testCacheDir({ BANGER_TEST_CACHE_DIR: planted }), /must be 0700/);

    symlinkSync(fresh, join(dir, 'link'));
    assert.throws(() => testCacheDir({ BANGER_TEST_CACHE_DIR: join(dir, 'link') }), /not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
