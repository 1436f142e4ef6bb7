// Root's file work on paths a user can change, done from file descriptors only: each path is
// walked one component at a time from a descriptor already checked (owner, type), never
// following a link the user could have made, and the change is made on the descriptor
// (`/proc/self/fd/N/NAME` names NAME inside exactly the directory N holds: the magic link is
// not looked up by name again). No path string is resolved twice, so swapping a directory
// for a symlink (rename, RENAME_EXCHANGE) between a check and the change redirects nothing.
// Installed as root-owned code: node: builtins and ./policy.js only.
import { closeSync, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { constants as C } from 'node:fs';
import { dirname } from 'node:path';
import { refuse, type Policy } from './policy.js';

/** Linux O_PATH: a descriptor that names an inode (a socket too) without opening it for I/O. */
export const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;
/** Root-made symlinks followed on the way to a trusted dir (say /home -> /usr/home). */
const MAX_LINKS = 16;

/** NAME inside the directory that fd holds. */
export function at(fd: number, name: string): string {
  if (!name || name === '.' || name === '..' || name.includes('/')) refuse(`bad path component "${name}"`);
  return `/proc/self/fd/${fd}/${name}`;
}

/** The mount a descriptor is on (bind mounts of one filesystem share st_dev, not this). */
export function mountId(fd: number): number {
  const m = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (!m) refuse('cannot read the mount of a descriptor');
  return Number(m[1]);
}

/** A directory held by descriptor, checked; close it when done. */
export interface HeldDir {
  fd: number;
  st: Stats;
  path: string;
}

/** Open a directory entry without following it: a symlink, or anything else, is refused. */
export function openDirAt(dir: HeldDir, name: string, flags = DIR_FLAGS): HeldDir {
  const path = `${dir.path === '/' ? '' : dir.path}/${name}`;
  let fd: number;
  try {
    fd = openSync(at(dir.fd, name), flags | C.O_DIRECTORY | C.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') refuse(`${path} does not exist`);
    refuse(`${path} is not a directory (a symlink or other: ${code})`);
  }
  return { fd, st: fstatSync(fd), path };
}

export function closeDir(d: HeldDir | null | undefined): void {
  if (d) closeSync(d.fd);
}

/** A symlink only root could have put there: root's, in a dir of root's nobody else writes. */
function rootLink(dir: HeldDir, name: string): string | null {
  const st = lstatSync(at(dir.fd, name), { throwIfNoEntry: false });
  if (!st?.isSymbolicLink() || st.uid !== 0 || dir.st.uid !== 0 || (dir.st.mode & 0o022) !== 0) return null;
  return readlinkSync(at(dir.fd, name));
}

function openRoot(): HeldDir {
  const fd = openSync('/', DIR_FLAGS);
  return { fd, st: fstatSync(fd), path: '/' };
}

function parts(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * A directory reached from `/`, following only root's own symlinks (see rootLink): the dirs
 * root fixed in a policy (a user's banger dirs, the jail base) sit below such paths.
 */
export function openTrusted(path: string): HeldDir {
  if (!path.startsWith('/')) refuse(`"${path}" is not absolute`);
  let cur = openRoot();
  const todo = parts(path);
  let links = 0;
  try {
    while (todo.length) {
      const name = todo.shift()!;
      let next: HeldDir;
      if (name === '..') {
        // Only from a root-made link's target (the policy's own paths are normal).
        const fd = openSync(`/proc/self/fd/${cur.fd}/..`, DIR_FLAGS);
        next = { fd, st: fstatSync(fd), path: dirname(cur.path) };
      } else {
        const link = rootLink(cur, name);
        if (link !== null) {
          if (++links > MAX_LINKS) refuse(`${path}: too many symlinks`);
          todo.unshift(...parts(link));
          if (link.startsWith('/')) {
            closeDir(cur);
            cur = openRoot();
          }
          continue;
        }
        next = openDirAt(cur, name);
      }
      closeDir(cur);
      cur = next;
    }
    return cur;
  } catch (err) {
    closeDir(cur);
    throw err;
  }
}

function lexicallyInside(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  return path === r || path.startsWith(r + '/');
}

function owned(p: Policy, d: HeldDir): void {
  if (!d.st.isDirectory() || d.st.uid !== p.uid) refuse(`${d.path} is not a directory owned by ${p.user}`);
}

/**
 * The directory holding `path` (held open) and the last component, for a path inside one of
 * the user's banger dirs: the banger dir itself and every dir below it down to the holder are
 * the user's, none a symlink. The leaf is not looked at: the caller acts on (dir, name).
 */
export function userDirOf(p: Policy, path: string): { dir: HeldDir; name: string } {
  if (!path.startsWith('/') || path.split('/').some((s) => s === '..' || s === '.'))
    refuse(`"${path}" is not an absolute, normal path`);
  const parent = dirname(path);
  const name = path.slice(parent.length + (parent === '/' ? 0 : 1));
  if (!name) refuse(`"${path}" names no file`);
  const root = p.dirs.filter((d) => lexicallyInside(parent, d)).sort((a, b) => b.length - a.length)[0];
  if (root === undefined) refuse(`${path} is outside ${p.user}'s banger dirs (${p.dirs.join(', ')})`);
  let cur = openTrusted(root);
  try {
    owned(p, cur);
    for (const part of parts(parent.slice(root.replace(/\/+$/, '').length))) {
      const next = openDirAt(cur, part);
      closeDir(cur);
      cur = next;
      owned(p, cur);
    }
    return { dir: cur, name };
  } catch (err) {
    closeDir(cur);
    throw err;
  }
}

/** lstat of NAME inside a held dir (undefined: no such entry). */
export function lstatAt(dir: HeldDir, name: string): Stats | undefined {
  return lstatSync(at(dir.fd, name), { throwIfNoEntry: false });
}

/** A directory whose every component from `/` is root's, not group/other-writable, no symlink. */
export function openRootOnly(path: string): HeldDir {
  if (!path.startsWith('/') || path.split('/').some((s) => s === '..' || s === '.'))
    refuse(`"${path}" is not an absolute, normal path`);
  let cur = openRoot();
  try {
    for (const part of ['', ...parts(path)]) {
      if (part) {
        const next = openDirAt(cur, part);
        closeDir(cur);
        cur = next;
      }
      if (cur.st.uid !== 0 || (cur.st.mode & 0o022) !== 0) refuse(`${cur.path} must be root's alone`);
    }
    return cur;
  } catch (err) {
    closeDir(cur);
    throw err;
  }
}
