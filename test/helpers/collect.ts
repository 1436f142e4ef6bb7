// Run a child process in a test and take its output: one way for every harness. Resolved once
// the pipes are drained ('close', not 'exit': output can still be in the pipes when the exit
// arrives, which once made an exit-0 run look empty); killed with SIGKILL after timeoutMs.
import { spawn } from 'node:child_process';

export interface Collected {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CollectOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin; without it stdin is /dev/null (nothing can wait on it, no EPIPE). */
  input?: string;
  timeoutMs?: number;
  /** How a timeout names the command (default: the argv). */
  label?: string;
}

export function collect(argv: string[], o: CollectOptions = {}): Promise<Collected> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: o.env,
      cwd: o.cwd,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const what = o.label ?? argv.join(' ');
      reject(new Error(`${what} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {
        /* the child exited without reading: its exit code tells */
      });
      child.stdin.end(o.input);
    }
  });
}
