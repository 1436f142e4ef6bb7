// Is a process alive? One answer for the whole program: kill(pid, 0) says it exists (EPERM:
// exists but is not ours, e.g. a root VMM seen by a user), and /proc says whether it is a
// zombie, which answers kill(0) but is gone for every purpose of ours.
import { readFileSync } from 'node:fs';

export function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = s.charAt(s.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    // ENOENT: reaped between kill(0) and the read, so gone. Anything else (no /proc): trust kill(0).
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
