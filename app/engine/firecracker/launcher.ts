// Process plumbing for the VMM: is a pid alive, wait for it to go, signal it (through the
// runner when it is root's and we are not), and find the real VMM under sudo.
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';

import { pidAlive as isAlive } from '../../base/pid.js';
import { sleep } from '../../base/time.js';

/** Poll until the pid is gone; true when it went within timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Send a signal; a root-owned VMM (EPERM) is signalled with `kill` through the runner. */
export async function signalPid(runner: ProcessRunner, pid: number, sig: 'TERM' | 'KILL'): Promise<void> {
  if (!(pid > 0)) return;
  try {
    process.kill(pid, `SIG${sig}`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return;
    if (code === 'EPERM' && !runner.isRoot) {
      await runner.run(['kill', `-${sig}`, String(pid)], { privileged: true, reject: false });
      return;
    }
    throw err;
  }
}

export function procStat(pid: number): { ppid: number; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parens: the fields after the last ')' are fixed.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

export function readCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, a) => s !== '' || i < a.length - 1);
  } catch {
    return null;
  }
}

/** Does argv carry `flag value` as consecutive arguments? */
export function hasFlag(argv: string[], flag: string, value: string): boolean {
  for (let i = 0; i < argv.length - 1; i++) if (argv[i] === flag && argv[i + 1] === value) return true;
  return false;
}

/**
 * The real VMM under sudo: sudo forks (and with use_pty forks a monitor that forks again), so
 * the VMM is the descendant of sudo's pid whose command line has `--api-sock SOCK`. If sudo
 * exec'd instead (no fork), it is that pid itself.
 */
export function findVmmUnder(sudoPid: number, socketPath: string): number | null {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    /* no /proc: fall through */
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(Number(e));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(e));
    children.set(st.ppid, list);
  }
  const queue = [...(children.get(sudoPid) ?? [])];
  for (let depth = 0; queue.length && depth < 64; depth++) {
    const pid = queue.shift()!;
    const argv = readCmdline(pid);
    if (argv && !isSudo(argv) && hasFlag(argv, '--api-sock', socketPath)) return pid;
    queue.push(...(children.get(pid) ?? []));
  }
  const own = readCmdline(sudoPid);
  return own && !isSudo(own) && hasFlag(own, '--api-sock', socketPath) ? sudoPid : null;
}

/**
 * A VMM the entry point started and left running (so not under sudo any more): the process,
 * not sudo or the entry point, whose command line has `--api-sock SOCK` and `--id ID`.
 */
export function findVmmByFlags(socketArg: string, id: string): number | null {
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const argv = readCmdline(Number(e));
    if (argv && !isSudo(argv) && hasFlag(argv, '--api-sock', socketArg) && hasFlag(argv, '--id', id)) return Number(e);
  }
  return null;
}

/**
 * sudo itself (or a script standing in for it) and banger's privileged entry point between
 * sudo and the VMM also carry the VMM's arguments: neither is the VMM.
 */
function isSudo(argv: string[]): boolean {
  return argv.slice(0, 2).some((a) => /(^|\/)(sudo|banger-priv)$/.test(a));
}
