// Measuring rigs for bench/startup.ts: wall time of a process from spawn to exit, the time
// from spawn to a marker on a real pty (tmux in control mode), and a process's memory.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Milliseconds from spawn() to the child's exit; output is read and dropped. */
export function timeSpawn(argv: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve({ ms, code: code ?? -1 });
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Forget a process's peak RSS (VmHWM restarts from its current RSS). */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Decode tmux control-mode %output data (octal escapes for control bytes and backslash). */
function decodeOutput(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface PtyRun {
  /** Milliseconds from the exec of argv in the pane to the marker appearing in its output. */
  ms: number;
  pid: number;
}

/**
 * Start argv in a fresh tmux server (a real pty, cols x rows) and time it from exec to the
 * first appearance of `marker` in what it draws. The pane's shell records the wall clock right
 * before it execs argv; tmux in control mode streams the pane's output to us as it is written.
 * The tmux server is killed afterwards (the program gets SIGHUP); `waitGone` waits for it to exit.
 */
// eslint-disable-next-line max-lines-per-function -- one rig, read top to bottom
export async function timeToMarker(o: {
  argv: string[];
  env: Record<string, string>;
  marker: string;
  cols?: number;
  rows?: number;
  timeoutMs?: number;
}): Promise<PtyRun> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-bench-pty-'));
  const sock = `banger-bench-${process.pid}-${Date.now()}`;
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
  const fifo = join(dir, 'go');
  const t0File = join(dir, 't0');
  spawnSync('mkfifo', [fifo]);
  const exports = Object.entries(o.env)
    .map(([k, v]) => `export ${k}=${shq(v)}`)
    .join('\n');
  writeFileSync(
    join(dir, 'run.sh'),
    `${exports}\nread _ < ${shq(fifo)}\ndate +%s%N > ${shq(t0File)}\nexec ${o.argv.map(shq).join(' ')}\n`,
  );
  const cols = String(o.cols ?? 120);
  const rows = String(o.rows ?? 35);
  const r = tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    'b',
    '-x',
    cols,
    '-y',
    rows,
    `sh ${shq(join(dir, 'run.sh'))}`,
  );
  if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
  const pid = Number(tmux('display', '-p', '-t', 'b', '#{pane_pid}').stdout.trim());
  const ctl = spawn('tmux', ['-L', sock, '-C', 'attach', '-t', 'b', '-f', 'ignore-size'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    const seen = await new Promise<number>((resolve, reject) => {
      let text = '';
      let buf = '';
      let started = false;
      const timer = setTimeout(
        () => reject(new Error(`no "${o.marker}" within ${o.timeoutMs ?? 20000} ms`)),
        o.timeoutMs ?? 20000,
      );
      ctl.stdout.setEncoding('utf8');
      ctl.stdout.on('data', (d: string) => {
        const now = performance.timeOrigin + performance.now();
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!started && line.startsWith('%end')) {
            started = true;
            writeFileSync(fifo, 'go\n'); // the control client is listening: let the pane go
          }
          if (!line.startsWith('%output ')) continue;
          text += decodeOutput(line.slice(line.indexOf(' ', 8) + 1)).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
          if (text.includes(o.marker)) {
            clearTimeout(timer);
            resolve(now);
          }
        }
      });
      ctl.on('exit', () => reject(new Error(`tmux control client exited before "${o.marker}"`)));
    });
    const t0 = Number(readFileSync(t0File, 'utf8').trim()) / 1e6;
    return { ms: seen - t0, pid };
  } finally {
    ctl.stdin.end();
    ctl.kill();
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolve once pid has exited (or after timeoutMs). */
export async function waitGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
