// Trust in the runtime dir: the control socket lives there, and whoever can write any directory
// on the way to it can plant their own engine. Without XDG_RUNTIME_DIR the root is
// /tmp/banger-UID, which another local user can create first. So every directory from the
// runtime root down must be a real directory (no symlink) owned by this user and writable by
// no one else, and a socket must be ours before we talk to it.
import { lstatSync, type Stats } from 'node:fs';
import { dirname, relative, sep, join } from 'node:path';
import { BangerError, ErrorCodes } from './errors.js';

export function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function untrusted(path: string, why: string): BangerError {
  return new BangerError(
    ErrorCodes.UNTRUSTED_PATH,
    `refusing ${path}: ${why} (someone else may control it; remove it, or set XDG_RUNTIME_DIR or BANGER_RUNTIME_DIR to a private directory)`,
    { details: { path } },
  );
}

/** root, then each directory below it down to dir (dir must be root or under it). */
export function chainFrom(root: string, dir: string): string[] {
  const rel = relative(root, dir);
  if (rel === '') return [root];
  if (rel.startsWith('..')) return [dir];
  const out = [root];
  let cur = root;
  for (const part of rel.split(sep)) {
    cur = join(cur, part);
    out.push(cur);
  }
  return out;
}

/** One directory: absent is fine (allowMissing), else ours, a directory, not group/other-writable. */
export function checkTrustedDir(path: string, uid = currentUid(), allowMissing = false): void {
  const st = lstatOrNull(path);
  if (!st) {
    if (allowMissing) return;
    throw untrusted(path, 'it does not exist');
  }
  if (st.isSymbolicLink()) throw untrusted(path, 'it is a symlink');
  if (!st.isDirectory()) throw untrusted(path, 'it is not a directory');
  if (st.uid !== uid) throw untrusted(path, `it is owned by uid ${st.uid}, not ${uid}`);
  if (st.mode & 0o022)
    throw untrusted(path, `it is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`);
}

/**
 * Every directory from root down to dir. allowMissing: directories not created yet pass (once
 * one is missing, nothing below it can exist).
 */
export function assertTrustedDirs(
  root: string,
  dir: string,
  opts: { uid?: number; allowMissing?: boolean } = {},
): void {
  for (const d of chainFrom(root, dir)) {
    if (opts.allowMissing && lstatOrNull(d) === null) return;
    checkTrustedDir(d, opts.uid ?? currentUid());
  }
}

/**
 * Before connecting: the socket, if there is one, is a socket owned by this user in a directory
 * that passes checkTrustedDir. Absent: fine (the connect then fails as "no engine").
 */
export function assertTrustedSocket(path: string, uid = currentUid()): void {
  const st = lstatOrNull(path);
  if (!st) return;
  checkTrustedDir(dirname(path), uid);
  if (!st.isSocket()) throw untrusted(path, 'it is not a socket');
  if (st.uid !== uid) throw untrusted(path, `it is owned by uid ${st.uid}, not ${uid}`);
}
