// Cheap readers for live metrics: /proc and /sys files, read synchronously into one shared
// buffer. These are in-memory kernel files (no disk I/O), so a sync read costs a few
// microseconds, far less than a thread-pool round trip and a promise per file. No child
// processes: with 100 VMs at 1 Hz every reader runs hundreds of times a second.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { ProcessRunner } from '../../base/process.js';

/** USER_HZ, the unit of /proc tick counts. It is 100 on Linux x86_64 and arm64 (a fixed ABI value). */
export const DEFAULT_CLOCK_TICKS = 100;

// Every reader fills this one buffer: the files we read are a few hundred bytes, and for the
// big ones (/proc/stat with its intr line) we only need the head.
const buf = Buffer.allocUnsafe(8192);

const GONE = new Set(['ENOENT', 'ESRCH', 'ENODEV', 'ENXIO', 'ENOTDIR']);

function isGone(e: unknown): boolean {
  return GONE.has((e as NodeJS.ErrnoException)?.code ?? '');
}

/** Read the head of a small kernel file as latin1 text; null when it no longer exists. */
export function readHead(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
  try {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('latin1', 0, n);
  } catch (e) {
    // A process that exits between open and read gives ESRCH.
    if (isGone(e)) return null;
    throw e;
  } finally {
    closeSync(fd);
  }
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid < 1) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `pid must be a positive integer, got ${pid}`);
  }
}

export interface ProcStat {
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Resident set size in pages (field 24, the same count as statm's resident). */
  rssPages: number;
  /** Start time after boot in clock ticks: tells a reused pid from the process we knew. */
  startTicks: number;
  /** Field 3: R, S, D, Z (zombie), ... */
  state: string;
}

/**
 * Parse /proc/PID/stat. The comm field (2) is in parentheses and may itself contain spaces
 * and parentheses, so fields are counted from the LAST ')'. Returns null on malformed text.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After ") " comes field 3 (state). We need 14 utime, 15 stime, 22 starttime, 24 rss.
  // Scan without split() so a sample of 100 VMs does not allocate thousands of strings.
  let field = 3;
  let i = close + 2;
  let utime = -1,
    stime = -1,
    start = -1,
    rss = -1;
  const n = text.length;
  while (i < n && field <= 24) {
    let j = i;
    while (j < n && text.charCodeAt(j) !== 32 && text.charCodeAt(j) !== 10) j++;
    if (field === 14 || field === 15 || field === 22 || field === 24) {
      let v = 0;
      for (let k = i; k < j; k++) {
        const c = text.charCodeAt(k) - 48;
        if (c < 0 || c > 9) return null;
        v = v * 10 + c;
      }
      if (j === i) return null;
      if (field === 14) utime = v;
      else if (field === 15) stime = v;
      else if (field === 22) start = v;
      else rss = v;
    }
    field++;
    i = j + 1;
  }
  if (utime < 0 || stime < 0 || start < 0 || rss < 0) return null;
  return { ticks: utime + stime, rssPages: rss, startTicks: start, state: text.charAt(close + 2) };
}

/** CPU ticks, RSS pages and start time of a process in one read; null when it is gone (or a zombie). */
export function readProcStat(pid: number): ProcStat | null {
  checkPid(pid);
  const text = readHead(`/proc/${pid}/stat`);
  const st = text === null ? null : parseProcStat(text);
  return st && st.state !== 'Z' && st.state !== 'X' ? st : null;
}

/** utime + stime of a process in clock ticks; null when it is gone. */
export function processCpuTicks(pid: number): number | null {
  return readProcStat(pid)?.ticks ?? null;
}

let cachedPageSize = 0;

/** The kernel page size: from /proc/self/smaps (KernelPageSize), else 4096. Read once. */
export function pageSize(): number {
  if (cachedPageSize) return cachedPageSize;
  cachedPageSize = 4096;
  const head = readHead('/proc/self/smaps');
  const m = head && /KernelPageSize:\s+(\d+) kB/.exec(head);
  if (m) cachedPageSize = Number(m[1]) * 1024;
  return cachedPageSize;
}

/** Resident memory of a process in bytes (statm resident pages * page size); null when gone. */
export function rssBytes(pid: number): number | null {
  checkPid(pid);
  const text = readHead(`/proc/${pid}/statm`);
  if (text === null) return null;
  const parts = text.split(' ');
  const pages = Number(parts[1]);
  return Number.isFinite(pages) ? pages * pageSize() : null;
}

export interface TapCounters {
  rxBytes: number;
  txBytes: number;
}

// Linux interface names: at most 15 bytes, no '/', no whitespace; '.' and '..' are not names.
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;

export function isValidIfName(name: unknown): name is string {
  return typeof name === 'string' && IFNAME.test(name) && name !== '.' && name !== '..';
}

/**
 * Byte counters of a network interface (a VM's TAP) as the HOST sees them:
 * rx = bytes the host received from the device (what the guest sent). Null when it is missing.
 */
export function tapCounters(tap: string): TapCounters | null {
  if (!isValidIfName(tap)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid interface name: ${JSON.stringify(tap)}`);
  }
  const dir = `/sys/class/net/${tap}/statistics/`;
  const rx = readHead(dir + 'rx_bytes');
  if (rx === null) return null;
  const tx = readHead(dir + 'tx_bytes');
  if (tx === null) return null;
  const rxBytes = Number(rx.trim());
  const txBytes = Number(tx.trim());
  if (!Number.isFinite(rxBytes) || !Number.isFinite(txBytes)) return null;
  return { rxBytes, txBytes };
}

/** Bytes a (sparse) disk image actually occupies: st_blocks * 512; null when missing. */
export function allocatedBytes(path: string): number | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? st.blocks * 512 : null;
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}

export interface HostCpuTimes {
  /** Ticks spent not idle (everything but idle and iowait). */
  busy: number;
  total: number;
}

/** Parse the aggregate "cpu " line of /proc/stat. guest/guest_nice are already in user/nice. */
export function parseHostCpu(text: string): HostCpuTimes | null {
  if (!text.startsWith('cpu ')) return null;
  const end = text.indexOf('\n');
  const nums = text
    .slice(4, end < 0 ? undefined : end)
    .trim()
    .split(/\s+/)
    .map(Number);
  if (nums.length < 4 || nums.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal
  let total = 0;
  for (let i = 0; i < Math.min(8, nums.length); i++) total += nums[i];
  const idle = nums[3] + (nums[4] ?? 0);
  return { busy: total - idle, total };
}

export function readHostCpu(): HostCpuTimes {
  const t = readHead('/proc/stat');
  const r = t === null ? null : parseHostCpu(t);
  if (!r) throw new BangerError(ErrorCodes.INTERNAL, 'cannot parse /proc/stat');
  return r;
}

/** Host CPU busy percent (0..100 of ALL cores) between two readings. */
export function hostCpuPct(prev: HostCpuTimes, cur: HostCpuTimes): number {
  const dt = cur.total - prev.total;
  if (dt <= 0) return 0;
  return Math.min(100, Math.max(0, ((cur.busy - prev.busy) / dt) * 100));
}

export interface HostMemory {
  totalBytes: number;
  usedBytes: number;
}

/** Parse /proc/meminfo: used = MemTotal - MemAvailable (MemFree+Buffers+Cached on old kernels). */
export function parseMeminfo(text: string): HostMemory | null {
  const kb = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb('MemTotal');
  if (total === null) return null;
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return { totalBytes: total, usedBytes: Math.min(total, Math.max(0, total - available)) };
}

export function readHostMemory(): HostMemory {
  const t = readHead('/proc/meminfo');
  const r = t === null ? null : parseMeminfo(t);
  if (!r) throw new BangerError(ErrorCodes.INTERNAL, 'cannot parse /proc/meminfo');
  return r;
}

/** Seconds since boot, from /proc/uptime (10 ms resolution). */
export function readUptimeSec(): number {
  const t = readHead('/proc/uptime');
  const v = t === null ? NaN : Number(t.split(' ')[0]);
  if (!Number.isFinite(v)) throw new BangerError(ErrorCodes.INTERNAL, 'cannot parse /proc/uptime');
  return v;
}

/** Ask the system for USER_HZ once (getconf CLK_TCK); falls back to 100. */
export async function readClockTicks(runner: ProcessRunner): Promise<number> {
  try {
    const r = await runner.run(['getconf', 'CLK_TCK'], { reject: false, timeoutMs: 5000 });
    const v = Number(r.stdout.trim());
    return r.exitCode === 0 && Number.isInteger(v) && v > 0 ? v : DEFAULT_CLOCK_TICKS;
  } catch {
    return DEFAULT_CLOCK_TICKS;
  }
}
