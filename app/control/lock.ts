// One engine per state dir. Node has no flock, so the lock is a file naming the owner,
// created atomically (write a temp file, then link(2) it into place: link fails with EEXIST
// and never exposes a half-written file). A lock whose owner is gone is taken over;
// concurrent takeovers are serialised by a second, short-lived lock of the same kind.
//
// The file holds "PID STARTTIME BOOT_ID" (starttime: /proc/PID/stat field 22). A pid alone
// is not an identity: after a reboot a small pid belongs to some system daemon, which would
// wedge every banger command. The owner is live only if the pid is alive in the same boot
// with the same start time ("-" for a part that could not be read is not compared).
//
// Locks written by older builds hold only "PID". Such a lock names a live owner only if the
// pid is alive, its process started no later than the lock file was written (a pid reused
// after the owner died, or after a reboot, started later), and its command line is banger's
// (an argument naming banger or app/main.{ts,js}, or the `engine serve` verbs). Both tests
// must pass, so a mis-set clock or a touched file alone cannot wedge us on a stranger.
import { linkSync, readFileSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BangerError, ErrorCodes } from '../base/errors.js';
// A zombie holder (killed, not yet reaped) has let go of the lock.
import { pidAlive as isAlive } from '../base/pid.js';
import { bootId, mtimeMs, procArgv, procStartTime, procStartedAtMs } from './proc-identity.js';

export interface EngineLock {
  readonly path: string;
  readonly pid: number;
  /** Remove the lock if it is still ours. Synchronous so it can run in exit handlers. */
  release(): void;
}

export interface LockOptions {
  /** Keep retrying a held lock this long (a stepping-aside engine is about to release it). */
  waitMs?: number;
  /** Poll interval while waiting. */
  pollMs?: number;
}

/** Locks this process holds: our own pid in a lock file is only stale if we don't hold it. */
const heldHere = new Set<string>();
/** A takeover lock older than this with a dead or unreadable owner is abandoned. */
const TAKEOVER_STALE_MS = 5000;

/** Take the engine lock, or fail with E_ENGINE_RUNNING naming the live holder's pid. */
export async function acquireEngineLock(path: string, opts: LockOptions = {}): Promise<EngineLock> {
  const start = Date.now();
  const waitMs = opts.waitMs ?? 0;
  const pollMs = opts.pollMs ?? 20;
  for (;;) {
    try {
      return tryAcquireEngineLock(path);
    } catch (err) {
      if (!(err instanceof BangerError) || err.code !== ErrorCodes.ENGINE_RUNNING) throw err;
      // A takeover in progress lasts microseconds: always wait it out, then report the winner.
      const budget = err.details?.takeover === true ? Math.max(waitMs, 1000) : waitMs;
      if (Date.now() - start >= budget) throw err;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** One attempt, no waiting. */
export function tryAcquireEngineLock(path: string): EngineLock {
  if (heldHere.has(path)) {
    throw new BangerError(
      ErrorCodes.ENGINE_RUNNING,
      `an engine is already running (pid ${process.pid}, this process)`,
      { details: { pid: process.pid, lockFile: path } },
    );
  }
  if (linkLockFile(path)) return held(path);
  // Held by someone: alive -> refuse; gone -> take over under the takeover lock.
  const holder = liveHolder(path, readLock(path));
  if (holder !== null) throw running(holder, path);
  const takeover = `${path}.takeover`;
  if (!linkLockFile(takeover)) {
    // Takeovers are synchronous and release in finally, so our own pid here is a
    // previous process's; a corrupt file is only trusted to be abandoned once it is old.
    const other = readLock(takeover);
    const gone = other !== null ? other.pid === process.pid || !ownerAlive(takeover, other) : abandoned(takeover);
    // (Removing a dead owner's takeover file has a tiny read-then-unlink window; it only
    // matters if an engine died mid-takeover and two more race at that instant.)
    if (gone) removeIfSame(takeover, other?.raw ?? null);
    if (!gone || !linkLockFile(takeover)) {
      throw new BangerError(
        ErrorCodes.ENGINE_RUNNING,
        `another engine${other ? ` (pid ${other.pid})` : ''} is taking over the lock ${path}`,
        { details: { pid: other?.pid ?? null, lockFile: path, takeover: true } },
      );
    }
  }
  try {
    // Re-check under the takeover lock: the holder may have changed since we looked.
    const now = liveHolder(path, readLock(path));
    if (now !== null) throw running(now, path);
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
    if (!linkLockFile(path)) {
      const winner = readLock(path);
      throw running(winner?.pid ?? -1, path);
    }
    return held(path);
  } finally {
    removeIfSame(takeover, ourRecord());
  }
}

/** The live pid holding the lock, or null when it is free or stale. */
export function lockHolder(path: string): number | null {
  return liveHolder(path, readLock(path));
}

/** What a lock file says about its owner. start/boot are null in a plain-pid (older) lock. */
export interface LockRecord {
  pid: number;
  start: string | null;
  boot: string | null;
  legacy: boolean;
  raw: string;
}

/** Parse a lock file's text; null for anything that names no owner (taken over). */
export function parseLock(raw: string): LockRecord | null {
  const parts = raw.trim().split(/\s+/);
  const pid = Number(parts[0]);
  if (!/^\d+$/.test(parts[0] ?? '') || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (parts.length === 1) return { pid, start: null, boot: null, legacy: true, raw };
  if (parts.length !== 3) return null;
  const known = (v: string) => (v === '-' ? null : v);
  return { pid, start: known(parts[1]), boot: known(parts[2]), legacy: false, raw };
}

/** The line this process writes: "PID STARTTIME BOOT_ID". */
let ours: string | undefined;
function ourRecord(): string {
  ours ??= `${process.pid} ${procStartTime(process.pid) ?? '-'} ${bootId() ?? '-'}\n`;
  return ours;
}

/** pid of the live owner, or null. Our own pid is only ours if this process holds the lock. */
function liveHolder(path: string, rec: LockRecord | null): number | null {
  if (rec === null) return null;
  if (rec.pid === process.pid) return heldHere.has(path) && rec.raw === ourRecord() ? rec.pid : null;
  return ownerAlive(path, rec) ? rec.pid : null;
}

function ownerAlive(path: string, rec: LockRecord): boolean {
  if (!isAlive(rec.pid)) return false;
  if (rec.legacy) return legacyOwnerAlive(path, rec.pid);
  const boot = bootId();
  if (rec.boot !== null && boot !== null && rec.boot !== boot) return false;
  const start = procStartTime(rec.pid);
  if (rec.start !== null && start !== null && rec.start !== start) return false;
  return true;
}

/** btime has whole-second resolution: allow for it when comparing with the file's mtime. */
const START_SLACK_MS = 2000;

function legacyOwnerAlive(path: string, pid: number): boolean {
  const written = mtimeMs(path);
  const started = procStartedAtMs(pid);
  if (written !== null && started !== null && started > written + START_SLACK_MS) return false;
  const argv = procArgv(pid);
  // Unreadable cmdline (hidepid): the start-time test above is all we have.
  if (argv === null) return true;
  return looksLikeBanger(argv);
}

function looksLikeBanger(argv: string[]): boolean {
  if (argv.some((a) => /banger/i.test(a) || /(^|\/)app\/main\.(ts|js)$/.test(a))) return true;
  return argv.some((a, i) => a === 'engine' && argv[i + 1] === 'serve');
}

function held(path: string): EngineLock {
  heldHere.add(path);
  let released = false;
  return {
    path,
    pid: process.pid,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      removeIfSame(path, ourRecord());
    },
  };
}

function running(pid: number, path: string): BangerError {
  return new BangerError(ErrorCodes.ENGINE_RUNNING, `an engine is already running (pid ${pid}) for this state dir`, {
    details: { pid, lockFile: path },
  });
}

/** Atomically create `path` naming this process. false if it already exists. */
function linkLockFile(path: string): boolean {
  const tmp = join(dirname(path), `.${process.pid}.${Math.random().toString(36).slice(2)}.lock.tmp`);
  writeFileSync(tmp, ourRecord(), { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new BangerError(
      ErrorCodes.ENGINE_UNAVAILABLE,
      `cannot create the engine lock ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* best effort */
    }
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readLock(path: string): LockRecord | null {
  const raw = readText(path);
  return raw === null ? null : parseLock(raw);
}

/** Remove `path` if it still holds exactly `raw` (null: an unparsable file we judged abandoned). */
function removeIfSame(path: string, raw: string | null): void {
  const now = readText(path);
  if (now === null) return;
  if (raw === null ? parseLock(now) === null : now === raw) {
    try {
      unlinkSync(path);
    } catch {
      /* gone */
    }
  }
}

function abandoned(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > TAKEOVER_STALE_MS;
  } catch {
    return true;
  }
}
