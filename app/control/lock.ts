// One engine per state dir. Node has no flock, so the lock is a file holding the owner's
// pid, created atomically (write a temp file, then link(2) it into place: link fails with
// EEXIST and never exposes a half-written file). A lock whose pid is dead is taken over;
// concurrent takeovers are serialised by a second, short-lived lock of the same kind.
import { linkSync, readFileSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BangerError, ErrorCodes } from '../errors.js';
// A zombie holder (killed, not yet reaped) has let go of the lock.
import { pidAlive as isAlive } from '../pid.js';

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
    throw new BangerError(ErrorCodes.ENGINE_RUNNING, `an engine is already running (pid ${process.pid}, this process)`,
      { details: { pid: process.pid, lockFile: path } });
  }
  if (linkPidFile(path)) return held(path);
  // Held by someone: alive -> refuse; dead -> take over under the takeover lock.
  const holder = readPid(path);
  if (holder !== null && holder !== process.pid && isAlive(holder)) throw running(holder, path);
  const takeover = `${path}.takeover`;
  if (!linkPidFile(takeover)) {
    // Takeovers are synchronous and release in finally, so our own pid here is a
    // previous process's; a corrupt file is only trusted to be abandoned once it is old.
    const other = readPid(takeover);
    const gone = other !== null ? other === process.pid || !isAlive(other) : abandoned(takeover);
    // (Removing a dead owner's takeover file has a tiny read-then-unlink window; it only
    // matters if an engine died mid-takeover and two more race at that instant.)
    if (gone) removeIfSame(takeover, other);
    if (!gone || !linkPidFile(takeover)) {
      throw new BangerError(ErrorCodes.ENGINE_RUNNING, `another engine${other ? ` (pid ${other})` : ''} is taking over the lock ${path}`,
        { details: { pid: other, lockFile: path, takeover: true } });
    }
  }
  try {
    // Re-check under the takeover lock: the holder may have changed since we looked.
    const now = readPid(path);
    if (now !== null && now !== process.pid && isAlive(now)) throw running(now, path);
    try { unlinkSync(path); } catch { /* already gone */ }
    if (!linkPidFile(path)) {
      const winner = readPid(path);
      throw running(winner ?? -1, path);
    }
    return held(path);
  } finally {
    removeIfSame(takeover, process.pid);
  }
}

/** The live pid holding the lock, or null when it is free or stale. */
export function lockHolder(path: string): number | null {
  const pid = readPid(path);
  if (pid === null) return null;
  if (pid === process.pid) return heldHere.has(path) ? pid : null;
  return isAlive(pid) ? pid : null;
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
      removeIfSame(path, process.pid);
    },
  };
}

function running(pid: number, path: string): BangerError {
  return new BangerError(ErrorCodes.ENGINE_RUNNING, `an engine is already running (pid ${pid}) for this state dir`,
    { details: { pid, lockFile: path } });
}

/** Atomically create `path` containing our pid. false if it already exists. */
function linkPidFile(path: string): boolean {
  const tmp = join(dirname(path), `.${process.pid}.${Math.random().toString(36).slice(2)}.lock.tmp`);
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new BangerError(ErrorCodes.ENGINE_UNAVAILABLE, `cannot create the engine lock ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    try { unlinkSync(tmp); } catch { /* best effort */ }
  }
}

function readPid(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function removeIfSame(path: string, pid: number | null): void {
  if (readPid(path) === pid) {
    try { unlinkSync(path); } catch { /* gone */ }
  }
}

function abandoned(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > TAKEOVER_STALE_MS;
  } catch {
    return true;
  }
}

