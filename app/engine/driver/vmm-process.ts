// Who a VMM process is, beyond its pid: its start time (so a reused pid is never taken for
// it), its real uid and its command line (so reconcile never adopts or kills a stranger), and
// a kill that checks the process really went.
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { which, type ProcessRunner } from '../../base/process.js';
import { pidAlive } from '../../base/pid.js';
import { sleep } from '../../base/time.js';

export interface ProcIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot. Unique together with the pid. */
  startTime: number;
  /** Real uid (first field of Uid: in /proc/PID/status). */
  uid: number;
  argv: string[];
}

/** The identity of a live, non-zombie process; null when it is gone. */
export function procIdentity(pid: number): ProcIdentity | null {
  if (!(pid > 0) || !pidAlive(pid)) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = Number(rest[19]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return { pid, startTime, uid, argv };
  } catch {
    return null;
  }
}

/** Is this exact process (pid and start time) still alive? A null start time trusts the pid alone. */
export function sameProcessAlive(pid: number | null, startTime: number | null): boolean {
  if (!pid || !pidAlive(pid)) return false;
  if (startTime === null) return true;
  const id = procIdentity(pid);
  return !!id && id.startTime === startTime;
}

/** The start time of a live pid (null when gone). */
export function startTimeOf(pid: number): number | null {
  return procIdentity(pid)?.startTime ?? null;
}

/**
 * Does argv run `bin`? Directly (argv[0]), or as a script under an interpreter (argv[1]: the
 * simulator, any `#!` wrapper). Both sides are compared resolved, so a symlinked bin matches.
 */
export function runsExecutable(argv: string[], bin: string): boolean {
  const want = resolved(bin);
  return argv.slice(0, 2).some((a) => a === bin || resolved(a) === want);
}

/** A path made absolute and free of symlinks; a bare name (QEMU runs as `qemu-system-x86_64`) is looked up on PATH. */
function resolved(p: string): string {
  const full = p.includes('/') ? p : (which(p) ?? p);
  try {
    return realpathSync(full);
  } catch {
    return full;
  }
}

/**
 * SIGKILL a process known by pid and start time (through the runner's privileged `kill` when
 * it is not ours to signal), then wait for it to go. True when it is gone; a pid reused by
 * another process is never signalled.
 */
export async function killVerified(
  runner: ProcessRunner,
  pid: number,
  startTime: number | null,
  timeoutMs = 3000,
): Promise<boolean> {
  if (!sameProcessAlive(pid, startTime)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' && !runner.isRoot)
      await runner.run(['kill', '-KILL', String(pid)], { privileged: true, reject: false }).catch(() => undefined);
  }
  const deadline = Date.now() + timeoutMs;
  while (sameProcessAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Refuse (E_VMM_ALIVE) when something still serves on the API socket: a VMM we must not orphan. */
export async function refuseLiveSocket(sock: string, vmName: string): Promise<void> {
  if (!lstatSync(sock, { throwIfNoEntry: false })?.isSocket()) return;
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(sock);
    const t = setTimeout(() => {
      c.destroy();
      resolve(true); // accepted but silent still means a live owner
    }, 500);
    c.once('connect', () => {
      clearTimeout(t);
      c.destroy();
      resolve(true);
    });
    c.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
  if (live)
    throw new BangerError(
      ErrorCodes.VMM_ALIVE,
      `VM "${vmName}": a live process still serves its API socket ${sock}: refusing to start a second VMM`,
    );
}
