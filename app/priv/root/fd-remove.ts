// A recursive removal for root in a tree a user can change while it runs (a jail: its root
// dir is the user's). Every directory is opened from its parent's descriptor without
// following links and checked to be the entry just looked at, on the same mount; entries are
// unlinked and dirs removed through the parent's descriptor (unlink and rmdir never follow
// the last component). Anything unexpected (a swap, a mount, a filesystem boundary, too deep)
// stops it with a refusal: what is already gone stays gone, nothing more is touched.
// Installed as root-owned code: node: builtins and ./policy.js, ./fd-walk.js only.
import { closeSync, fstatSync, openSync, readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { constants as C } from 'node:fs';
import { at, lstatAt, mountId, type HeldDir } from './fd-walk.js';
import { Refusal, refuse } from './policy.js';

const MAX_DEPTH = 64;

interface Bounds {
  dev: number;
  mnt: number;
}

function changed(path: string, err: unknown): never {
  if (err instanceof Refusal) throw err;
  refuse(`${path} changed while it was removed (${(err as NodeJS.ErrnoException).code ?? err}): stopped`);
}

function removeDir(parent: HeldDir, name: string, st: Stats, b: Bounds, depth: number): void {
  const path = `${parent.path}/${name}`;
  if (depth > MAX_DEPTH) refuse(`${path}: deeper than ${MAX_DEPTH} levels: stopped`);
  let fd: number;
  try {
    fd = openSync(at(parent.fd, name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  } catch (err) {
    changed(path, err);
  }
  try {
    const dir: HeldDir = { fd, st: fstatSync(fd), path };
    if (dir.st.ino !== st.ino || dir.st.dev !== st.dev) refuse(`${path} was swapped while it was removed: stopped`);
    if (mountId(fd) !== b.mnt) refuse(`${path} is a mount point: stopped`);
    for (const e of readdirSync(`/proc/self/fd/${fd}`)) removeEntry(dir, e, b, depth + 1);
  } finally {
    closeSync(fd);
  }
  try {
    rmdirSync(at(parent.fd, name));
  } catch (err) {
    changed(path, err);
  }
}

function removeEntry(parent: HeldDir, name: string, b: Bounds, depth: number): void {
  const st = lstatAt(parent, name);
  if (!st) return; // gone meanwhile: nothing to do
  if (st.dev !== b.dev) refuse(`${parent.path}/${name} is on another filesystem: stopped`);
  if (st.isDirectory()) return removeDir(parent, name, st, b, depth);
  try {
    unlinkSync(at(parent.fd, name)); // the entry itself, whatever it points to
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') changed(`${parent.path}/${name}`, err);
  }
}

/**
 * Remove NAME (a directory) inside the held dir, and all below it, never following a link nor
 * leaving the held dir's filesystem and mount.
 */
export function removeTreeAt(parent: HeldDir, name: string): void {
  const st = lstatAt(parent, name);
  if (!st) return;
  if (!st.isDirectory()) refuse(`${parent.path}/${name} is not a directory`);
  removeDir(parent, name, st, { dev: parent.st.dev, mnt: mountId(parent.fd) }, 0);
}
