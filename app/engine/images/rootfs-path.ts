// Writing into a root filesystem that came from outside (an imported tarball or ext4) must
// never follow its symlinks out onto the host: "/etc -> /etc" in a rootfs means the rootfs's
// /etc. Paths are resolved with chroot semantics and checked to stay under the root.
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  unlinkSync,
  writeFileSync,
  chmodSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep, basename, isAbsolute } from 'node:path';
import { BangerError, ErrorCodes } from '../../base/errors.js';

function within(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/** The host path of directory `rel` inside root, following symlinks as a chroot would, created if missing. */
export function dirInRoot(root: string, rel: string): string {
  root = resolve(root);
  let cur = root;
  const parts = rel.split('/').filter((s) => s && s !== '.');
  for (let hops = 0; parts.length;) {
    const part = parts.shift()!;
    if (part === '..') {
      cur = within(root, dirname(cur)) ? dirname(cur) : root;
      continue;
    }
    const next = join(cur, part);
    let st;
    try {
      st = lstatSync(next);
    } catch {
      mkdirSync(next);
      cur = next;
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `too many symlinks under ${root} at ${rel}`);
      const target = readlinkSync(next);
      const base = target.startsWith('/') ? root : cur;
      parts.unshift(
        ...relative(root, resolve(base, target.replace(/^\/+/, '')))
          .split(sep)
          .filter(Boolean),
      );
      cur = root;
      continue;
    }
    if (!st.isDirectory())
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${rel} in the root filesystem is not a directory`);
    cur = next;
  }
  if (!within(root, cur)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${rel} escapes the root filesystem`);
  return cur;
}

/** Host path for file `rel` in root; an existing symlink there is removed (we replace, not follow). */
export function fileInRoot(root: string, rel: string): string {
  const p = join(dirInRoot(root, dirname(rel)), basename(rel));
  try {
    if (lstatSync(p).isSymbolicLink()) unlinkSync(p);
  } catch {
    /* absent */
  }
  return p;
}

/**
 * A new file in place of what is at p: a read-only file (0444 /etc/machine-id, the user's own
 * after a non-root unpack) cannot be opened for writing, and a hard link must not be written through.
 */
function replaced(p: string): string {
  try {
    if (!lstatSync(p).isDirectory()) unlinkSync(p);
  } catch {
    /* absent */
  }
  return p;
}

export function writeInRoot(root: string, rel: string, data: string | Buffer, mode = 0o644): string {
  const p = replaced(fileInRoot(root, rel));
  writeFileSync(p, data);
  chmodSync(p, mode);
  return p;
}

export function copyInRoot(root: string, rel: string, from: string, mode = 0o644): string {
  const p = replaced(fileInRoot(root, rel));
  copyFileSync(from, p);
  chmodSync(p, mode);
  return p;
}

export function symlinkInRoot(root: string, rel: string, target: string): void {
  const p = join(dirInRoot(root, dirname(rel)), basename(rel));
  try {
    unlinkSync(p);
  } catch {
    /* absent */
  }
  symlinkSync(target, p);
}

/** Does rel exist in root (following links with chroot semantics, without creating anything)? */
export function existsInRoot(root: string, rel: string): boolean {
  return resolveInRoot(root, rel) !== null;
}

/** The host path rel leads to in root (links followed with chroot semantics), or null if it does not exist. */
export function resolveInRoot(root: string, rel: string): string | null {
  root = resolve(root);
  let cur = root;
  const parts = rel.split('/').filter((s) => s && s !== '.');
  for (let hops = 0; parts.length;) {
    const part = parts.shift()!;
    const next = join(cur, part);
    let st;
    try {
      st = lstatSync(next);
    } catch {
      return null;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return null;
      const target = readlinkSync(next);
      const base = target.startsWith('/') ? root : cur;
      parts.unshift(
        ...relative(root, resolve(base, target.replace(/^\/+/, '')))
          .split(sep)
          .filter(Boolean),
      );
      cur = root;
      continue;
    }
    cur = next;
  }
  return within(root, cur) ? cur : null;
}
