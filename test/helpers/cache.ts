// The tests' download and build cache (Debian packages, the guest kernel and rootfs): kept across
// runs, private to the user. A fixed name in a world-writable place would let another local user
// plant a .deb or a busybox that a build then runs, so the directory and its parents must be ours.
import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $BANGER_TEST_CACHE_DIR, else $XDG_CACHE_HOME/banger-test, else ~/.cache/banger-test; 0700, ours. */
export function testCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.BANGER_TEST_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'banger-test');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertPrivate(dir);
  return dir;
}

/** Throws unless dir is a real directory owned by us that no one else can write or read. */
export function assertPrivate(dir: string): void {
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? -1;
  if (!st.isDirectory()) throw new Error(`test cache ${dir} is not a directory (a symlink?): refusing to use it`);
  if (st.uid !== uid) throw new Error(`test cache ${dir} is owned by uid ${st.uid}, not us (${uid}): refusing it`);
  if (st.mode & 0o077) {
    throw new Error(`test cache ${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 0700 (chmod 700 ${dir})`);
  }
}
