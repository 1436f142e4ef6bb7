// Shared folders: the parser and rules for `--mount HOSTDIR[:GUESTDIR][:ro]`, pure so the TUI
// create form checks with the engine's own rules. The host check is passed in (the engine and
// the TUI give the real filesystem; tests a table), so nothing here touches the disk.
import { isAbsolute, normalize, posix, resolve } from 'node:path';
import { BangerError, ErrorCodes } from '../base/errors.js';
import type { MountSpec } from './vm-extras.js';

/** What the caller's filesystem says about a host path: its real path when it is a directory. */
export type HostDirCheck = (absPath: string) => { kind: 'dir'; realPath: string } | { kind: 'missing' | 'not-dir' };

export const MAX_MOUNTS = 8;
export const MOUNT_SPEC_HELP = 'HOSTDIR[:GUESTDIR][:ro|:rw] (GUESTDIR defaults to HOSTDIR)';

// Paths travel through QEMU/virtiofsd options (comma-separated) and a whitespace-separated guest
// data file, and ":" separates the spec's parts: refuse what would be ambiguous there.
const UNSAFE = /[,:\s\\"'`$]|[\x00-\x1f\x7f]/;
// The guest's own system trees: a folder mounted over them would break the guest.
const RESERVED = ['/', '/proc', '/sys', '/dev', '/run', '/bin', '/sbin', '/lib', '/usr', '/etc', '/banger'];

function bad(raw: string, why: string): BangerError {
  return new BangerError(ErrorCodes.INVALID_MOUNT, `invalid mount "${raw}": ${why}`);
}

/** The guest directory of a spec or of `vm mount rm`: absolute, normalized, not a system tree. */
export function validateGuestDir(dir: string, raw = dir): string {
  if (!dir.startsWith('/')) throw bad(raw, `the guest directory "${dir}" must be absolute`);
  if (UNSAFE.test(dir)) throw bad(raw, `the guest directory "${dir}" must not contain spaces, quotes, ":" or ","`);
  const norm = posix.normalize(dir).replace(/\/+$/, '') || '/';
  if (RESERVED.includes(norm)) throw bad(raw, `the guest directory "${norm}" is a system directory`);
  return norm;
}

interface Parsed {
  hostDir: string;
  guestDir: string;
  readOnly: boolean;
}

/** Split and check one spec; cwd resolves a relative HOSTDIR (null: it must be absolute). */
export function parseMountSpec(raw: string, cwd: string | null): Parsed {
  if (typeof raw !== 'string') throw bad(String(raw), `expected ${MOUNT_SPEC_HELP}`);
  const parts = raw.split(':');
  let readOnly = false;
  const last = parts[parts.length - 1];
  if (parts.length > 1 && (last === 'ro' || last === 'rw')) {
    readOnly = last === 'ro';
    parts.pop();
  }
  if (parts.length > 2) throw bad(raw, `expected ${MOUNT_SPEC_HELP}`);
  const [host, guest] = parts;
  if (!host) throw bad(raw, 'the host directory is empty');
  if (/[,\s]|[\x00-\x1f\x7f]/.test(host)) throw bad(raw, 'the host directory must not contain spaces or ","');
  if (!isAbsolute(host) && cwd === null) throw bad(raw, 'the host directory must be an absolute path');
  const hostDir = normalize(isAbsolute(host) ? host : resolve(cwd ?? '/', host));
  if (guest === '') throw bad(raw, 'the guest directory is empty');
  const guestDir = validateGuestDir(guest ?? hostDir, raw);
  return { hostDir, guestDir, readOnly };
}

/** The first tag mN not used by existing. */
function nextTag(used: Set<string>): string {
  for (let i = 0; ; i++) if (!used.has(`m${i}`)) return `m${i}`;
}

/**
 * existing + the new specs, checked as a whole: each host dir a directory (resolved to its real
 * path), guest dirs unique, at most MAX_MOUNTS. Throws E_INVALID_MOUNT before anything changes.
 */
export function planMounts(
  existing: MountSpec[],
  raws: string[],
  cwd: string | null,
  check: HostDirCheck,
): MountSpec[] {
  const out = [...existing];
  const tags = new Set(existing.map((m) => m.tag));
  for (const raw of raws) {
    const p = parseMountSpec(raw, cwd);
    const found = check(p.hostDir);
    if (found.kind !== 'dir')
      throw bad(
        raw,
        found.kind === 'missing' ? `the host directory ${p.hostDir} does not exist` : `${p.hostDir} is not a directory`,
      );
    if (/[,\s]|[\x00-\x1f\x7f]/.test(found.realPath))
      throw bad(raw, `the host directory resolves to ${found.realPath}, which contains a space or ","`);
    const clash = out.find((m) => m.guestDir === p.guestDir);
    if (clash) throw bad(raw, `the guest directory ${p.guestDir} is already mounted (from ${clash.hostDir})`);
    const tag = nextTag(tags);
    tags.add(tag);
    out.push({ hostDir: found.realPath, guestDir: p.guestDir, readOnly: p.readOnly, tag });
  }
  if (out.length > MAX_MOUNTS) throw bad(raws.join(' '), `at most ${MAX_MOUNTS} shared folders per VM`);
  return out;
}

/**
 * The spec with a relative HOSTDIR made absolute against cwd (the CLI's, before the engine,
 * which runs elsewhere, sees it). A GUESTDIR left out defaults to the absolute host path.
 */
export function absoluteMountSpec(raw: string, cwd: string): string {
  const i = raw.indexOf(':');
  const host = i < 0 ? raw : raw.slice(0, i);
  if (host === '' || isAbsolute(host)) return raw;
  return resolve(cwd, host) + (i < 0 ? '' : raw.slice(i));
}

/** existing without the mount at guestDir; E_NOT_FOUND when there is none. */
export function withoutMount(existing: MountSpec[], guestDir: string): MountSpec[] {
  const dir = validateGuestDir(guestDir);
  if (!existing.some((m) => m.guestDir === dir))
    throw new BangerError(ErrorCodes.NOT_FOUND, `no shared folder at ${dir}`);
  return existing.filter((m) => m.guestDir !== dir);
}

/** The spec form of a mount, as `vm mount ls` prints it: HOSTDIR:GUESTDIR[:ro]. */
export function formatMount(m: MountSpec): string {
  return `${m.hostDir}:${m.guestDir}${m.readOnly ? ':ro' : ''}`;
}
