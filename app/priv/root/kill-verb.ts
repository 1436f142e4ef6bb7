// The entry point's `kill` verb: a user's engine stops the root VMM it started (the
// Firecracker sudo fallback). The target is held by a descriptor of its /proc/PID directory,
// which stays bound to that one process: once it exits, reads through it fail (ESRCH) even if
// the pid is reused. Through it the target must be a root process running the policy's
// Firecracker binary (same inode), whose API socket is in the user's banger dirs; its start
// time is read at the check and again just before the signal. Node has no pidfd_send_signal,
// so the signal goes by pid: the one window left is between that last read and kill(2).
// Installed as root-owned code: node: builtins and ./policy.js, ./fd-walk.js only.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { constants as C } from 'node:fs';
import { closeDir, userDirOf } from './fd-walk.js';
import { refuse, type Policy } from './policy.js';

interface Identity {
  start: string;
  uid: number;
  exe: { dev: number; ino: number };
  argv: string[];
}

/** What /proc says of the process the descriptor holds; null once it has exited. */
function identity(fd: number): Identity | null {
  const base = `/proc/self/fd/${fd}`;
  try {
    const stat = readFileSync(`${base}/stat`, 'utf8');
    // comm may hold spaces and parens: fields after the last ')' are fixed; starttime is 22nd.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`${base}/status`, 'utf8'));
    const exe = statSync(`${base}/exe`);
    const argv = readFileSync(`${base}/cmdline`, 'utf8').split('\0');
    // Root in every uid (real, effective, saved): a root process, not a setuid one mid-change.
    const uid = uids && uids[1] === uids[2] && uids[2] === uids[3] ? Number(uids[1]) : -1;
    return { start, uid, exe: { dev: exe.dev, ino: exe.ino }, argv };
  } catch {
    return null;
  }
}

function sameFile(path: string | undefined, f: { dev: number; ino: number }): boolean {
  if (!path?.startsWith('/')) return false;
  const st = statSync(path, { throwIfNoEntry: false });
  return !!st && st.dev === f.dev && st.ino === f.ino;
}

/** Its program is the binary: the executable itself, or (a script, as test stand-ins are) the interpreter's script. */
function runs(id: Identity, bin: string): boolean {
  const fc = statSync(bin);
  if (id.exe.dev === fc.dev && id.exe.ino === fc.ino) return true;
  const head = Buffer.alloc(2);
  const fd = openSync(bin, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  // The script exactly as the entry point named it (a root-only path), and still that file.
  return head.toString('latin1') === '#!' && id.argv[1] === bin && sameFile(id.argv[1], fc);
}

/**
 * The signal through a real pidfd: python3's os.pidfd_open and signal.pidfd_send_signal (no
 * compiled code of ours). The pidfd is opened first, then the start time read again: equal,
 * the pidfd holds the very process checked, and the signal reaches it or nothing (ESRCH),
 * whatever happens to the pid meanwhile (the entry point stopped with SIGTSTP included).
 * -I: isolated, so neither the caller's cwd nor PYTHON* variables reach root's python.
 */
const PIDFD_PY = [
  'import os, signal, sys',
  'pid, sig, start = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]',
  'def gone():',
  '    sys.stderr.write(f"banger-priv: refused: process {pid} has exited [E_PRIV_REFUSED]\\n"); sys.exit(2)',
  'try:',
  '    fd = os.pidfd_open(pid)',
  '    s = open(f"/proc/{pid}/stat").read()',
  'except (ProcessLookupError, FileNotFoundError):',
  '    gone()',
  'if s[s.rindex(")") + 2:].split(" ")[19] != start:',
  '    gone()',
  'try:',
  '    signal.pidfd_send_signal(fd, sig)',
  'except ProcessLookupError:',
  '    gone()',
].join('\n');
const SIGNUM = { TERM: 15, KILL: 9 } as const;
const PYTHON = ['/usr/bin/python3', '/bin/python3'];

export type KillAction = { argv: string[] } | { run: () => void; what: string };

/** The signal for a checked process (pythons: where python3 may be; tests pass none). */
export function signalAction(pid: number, sig: 'TERM' | 'KILL', start: string, pythons = PYTHON): KillAction {
  const python = pythons.find((p) => existsSync(p)); // by its root-owned path, not PATH
  if (python) return { argv: [python, '-I', '-c', PIDFD_PY, String(pid), String(SIGNUM[sig]), start] };
  // No python3: by pid, while /proc/PID still shows that start time. The window left is
  // between that read and kill(2), microseconds (an entry point stopped there widens it).
  const fd = openSync(`/proc/${pid}`, C.O_RDONLY | C.O_DIRECTORY);
  return {
    what: `kill -${sig} ${pid}`,
    run: () => {
      try {
        if (identity(fd)?.start !== start) refuse(`process ${pid} has exited`);
        process.kill(pid, `SIG${sig}`);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** Check PID and return the signal to send: refusals for anything but this user's root VMM. */
export function planKill(p: Policy, sigArg: string, pidArg: string): KillAction {
  if (sigArg !== 'TERM' && sigArg !== 'KILL') refuse('kill takes TERM or KILL');
  if (!/^[1-9]\d{0,9}$/.test(pidArg)) refuse(`bad pid "${pidArg}"`);
  const pid = Number(pidArg);
  if (!p.firecracker) refuse(`no root VMM is allowed for ${p.user}: nothing of theirs to kill as root`);
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}`, C.O_RDONLY | C.O_DIRECTORY);
  } catch {
    refuse(`no process ${pid}`);
  }
  try {
    const id = identity(fd);
    if (!id) refuse(`no process ${pid}`);
    if (id.uid !== 0 || !runs(id, p.firecracker))
      refuse(`process ${pid} is not a root ${p.firecracker} (a VMM started for ${p.user})`);
    const i = id.argv.indexOf('--api-sock');
    if (i < 0 || !id.argv[i + 1]) refuse(`process ${pid} is not a VMM started by banger`);
    closeDir(userDirOf(p, id.argv[i + 1]).dir);
    closeSync(fd);
    return signalAction(pid, sigArg, id.start);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
