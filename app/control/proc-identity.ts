// Who a pid really is. A pid alone is reused (after a reboot, pid 1..300 belong to system
// daemons within seconds), so the engine lock records the holder's start time and the boot
// id too, and a reader compares all three. Plain /proc reads: Linux only, like the rest.
import { readFileSync, statSync } from 'node:fs';

/** /proc/PID/stat field 22 (starttime, clock ticks since boot), or null when unreadable. */
export function procStartTime(pid: number): string | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const v = rest[22 - 3];
    return v && /^\d+$/.test(v) ? v : null;
  } catch {
    return null;
  }
}

/** This boot's random id; a different value means the host rebooted since it was read. */
export function bootId(): string | null {
  try {
    const v = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return /^[0-9a-f-]{36}$/.test(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * USER_HZ: the unit of /proc starttime. Fixed at 100 by the /proc ABI on every architecture
 * Node runs on (the kernel's internal HZ is hidden from userspace).
 */
const USER_HZ = 100;

function bootTimeMs(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Wall-clock start of a process in ms, accurate to about a second (btime is whole seconds). */
export function procStartedAtMs(pid: number): number | null {
  const ticks = procStartTime(pid);
  const boot = bootTimeMs();
  if (ticks === null || boot === null) return null;
  return boot + (Number(ticks) * 1000) / USER_HZ;
}

/** argv of a process (NUL-separated in /proc), or null when unreadable. */
export function procArgv(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw ? raw.split('\0').filter((a) => a !== '') : null;
  } catch {
    return null;
  }
}

/** mtime of a file in ms, or null when it is gone. */
export function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}
