// The Debian packages a user's busybox image and kernel are made from, downloaded once by root
// in the root namespace (as test/e2e does) into the test cache; the real-user tests copy them
// into the user's own cache, so the user's build runs offline.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN } from '../service/helpers.js';
import { testCacheDir } from '../helpers/cache.js';

const PACKAGES = ['busybox-static', 'dropbear-bin', 'libtomcrypt1', 'libtommath1', 'linux-image-'];

function cachedDebs(): string[] {
  const dir = join(testCacheDir(), 'debs');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : [];
  return PACKAGES.every((p) => files.some((f) => f.startsWith(p))) ? files.map((f) => join(dir, f)) : [];
}

/** The .debs the build needs, downloaded once by root in the root namespace (as test/e2e does). */
export function fillCache(): string[] {
  if (cachedDebs().length) return cachedDebs();
  const root = mkdtempSync('/tmp/bgt-cache-');
  const env = {
    ...process.env,
    BANGER_STATE_DIR: join(root, 'state'),
    BANGER_CONFIG_DIR: join(root, 'config'),
    BANGER_RUNTIME_DIR: join(root, 'run'),
    BANGER_CACHE_DIR: testCacheDir(),
    BANGER_NETWORK: 'none',
    BANGER_DNS_ADDR: '127.0.0.1:0',
    BANGER_BUILD_ID: `priv-cache-${process.pid}`,
  };
  const banger = (args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: 'ignore', timeout: 600_000 });
  try {
    banger(['image', 'build', 'bb', '--from', 'busybox']);
    banger(['kernel', 'fetch', 'deb']);
    banger(['engine', 'stop']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return cachedDebs();
}
