// The one place that runs host commands. Always argument arrays, never a shell string.
// Privileged commands go through `sudo -n` when we are not root, so they fail fast with a
// clear error instead of prompting behind a full-screen UI; with banger's privileged entry
// point installed (banger setup sudoers), as `sudo -n ENTRY VERB ARGS`, never the raw command.
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { childProcess } from './lazy-builtin.js';
import { accessSync, constants } from 'node:fs';
import { BangerError, ErrorCodes } from './errors.js';
import { installedEntry, verbFor } from './priv-argv.js';

export interface RunOptions {
  /** Needs CAP_NET_ADMIN or similar: run through `sudo -n` when not root. */
  privileged?: boolean;
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** false: return a non-zero exit instead of throwing. Default true. */
  reject?: boolean;
  /** Abort the command (used to cancel builds). */
  signal?: AbortSignal;
  /** Lines of output as they arrive (build logs). */
  onOutput?: (chunk: string) => void;
}

export interface RunResult {
  argv: string[];
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface SpawnOptions {
  privileged?: boolean;
  /** stdio: file descriptors or 'ignore'. Never pipes for a VMM: it must outlive the engine. */
  stdio: StdioOptions;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Own session/process group, so the child survives the engine and its terminal. */
  detached?: boolean;
}

export interface SpawnedProcess {
  /** pid of what we spawned (sudo's pid when privileged and not root). */
  pid: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ProcessRunner {
  readonly isRoot: boolean;
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  spawn(argv: string[], opts: SpawnOptions): SpawnedProcess;
  /**
   * Not root: can privileged commands run (the entry point and its sudoers rule)? Throws
   * E_SUDO_REQUIRED naming `banger setup sudoers`, changing nothing.
   */
  checkPrivileged?(): Promise<void>;
  /**
   * The entry point's verb a privileged argv would go through here, or null (root, no entry
   * point installed, or no verb: plain `sudo -n`). A VMM started through a verb is left running
   * by the entry point, which exits once the VMM's API socket exists.
   */
  entryVerb?(argv: string[]): string[] | null;
  /** Hand the terminal to a program (ssh) and resolve with its exit code. */
  interactive(argv: string[], opts?: { env?: Record<string, string | undefined> }): Promise<number>;
}

export interface RunnerOptions {
  /** Override root detection (tests exercise the sudo path as root). */
  isRoot?: boolean;
  sudo?: string;
  /**
   * The privileged entry point (path), or null for plain `sudo -n CMD`. Default: the installed
   * one (BANGER_PRIV_DIR or /usr/local/libexec/banger), else null.
   */
  entry?: string | null;
}

export const SETUP_HINT = 'run `banger setup sudoers --apply` once (see README: running as a normal user)';

/**
 * PATH plus the sbin dirs: a normal user's PATH lacks them, yet debugfs, mkfs.ext4, ip and
 * nft live there and work unprivileged for what banger asks of them.
 */
export function withSbin(path: string = process.env.PATH ?? ''): string {
  const have = new Set(path.split(':'));
  return [path, ...['/usr/local/sbin', '/usr/sbin', '/sbin'].filter((d) => !have.has(d))].filter(Boolean).join(':');
}

export function createRunner(o: RunnerOptions = {}): ProcessRunner {
  const isRoot = o.isRoot ?? (typeof process.getuid === 'function' ? process.getuid() === 0 : false);
  const sudo = o.sudo ?? process.env.BANGER_SUDO ?? 'sudo';
  // Looked up per call: `banger setup sudoers --apply` works for an engine already running.
  const entry = () => (o.entry === undefined ? installedEntry() : o.entry);
  const wrap = (argv: string[], privileged?: boolean): string[] =>
    privileged && !isRoot ? privilegedArgv(argv, sudo, entry()) : argv;

  return {
    isRoot,
    async run(argv, opts = {}) {
      if (argv.length === 0) throw new BangerError(ErrorCodes.INTERNAL, 'empty command');
      const full = wrap(argv, opts.privileged);
      const r = await runChild(full, opts);
      const { stdout, stderr, exitCode } = r;
      if (r.canceled) throw new BangerError(ErrorCodes.CANCELLED, `cancelled: ${argv.join(' ')}`);
      if (r.timedOut)
        throw new BangerError(ErrorCodes.TIMEOUT, `timed out after ${opts.timeoutMs} ms: ${argv.join(' ')}`);
      const result: RunResult = { argv: full, stdout, stderr, exitCode };
      if (exitCode !== 0 && opts.reject !== false) throw commandError(argv, full, result, r.spawnError);
      return result;
    },
    checkPrivileged: () => checkPrivileged(isRoot, sudo, entry()),
    entryVerb: (argv) => (isRoot || !entry() ? null : verbFor(argv)),
    spawn(argv, opts) {
      const full = wrap(argv, opts.privileged);
      const child = childProcess().spawn(full[0], full.slice(1), {
        stdio: opts.stdio,
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
        cwd: opts.cwd,
        detached: opts.detached ?? true,
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.once('error', () => resolve({ code: 127, signal: null }));
      });
      if (opts.detached ?? true) child.unref();
      return { pid: child.pid ?? -1, child, exited };
    },
    interactive(argv, opts = {}) {
      return new Promise((resolve) => {
        const child = childProcess().spawn(argv[0], argv.slice(1), {
          stdio: 'inherit',
          env: opts.env ? { ...process.env, ...opts.env } : process.env,
        });
        child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
        child.once('error', () => resolve(127));
      });
    },
  };
}

interface ChildResult {
  stdout: string;
  stderr: string;
  /** -1 when it could not be spawned or died from a signal. */
  exitCode: number;
  timedOut: boolean;
  canceled: boolean;
  spawnError?: string;
}

/** Grace between SIGTERM and SIGKILL for a command past its timeout or cancelled. */
const KILL_GRACE_MS = 5000;

/**
 * Run one command to completion with its output buffered (node:child_process: execa cost the
 * engine ~9 MiB and every first command ~100 ms of loading). stdin gets `input` or nothing.
 */
function runChild(full: string[], opts: RunOptions): Promise<ChildResult> {
  return new Promise((resolve) => {
    const res: ChildResult = { stdout: '', stderr: '', exitCode: -1, timedOut: false, canceled: false };
    if (opts.signal?.aborted) return resolve({ ...res, canceled: true });
    const child = childProcess().spawn(full[0]!, full.slice(1), {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, PATH: withSbin(opts.env?.PATH ?? process.env.PATH) },
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collect = (into: Buffer[]) => (c: Buffer) => {
      into.push(c);
      opts.onOutput?.(c.toString());
    };
    child.stdout!.on('data', collect(out));
    child.stderr!.on('data', collect(err));
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timedOut' | 'canceled') => {
      res[why] = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = opts.timeoutMs ? setTimeout(() => stop('timedOut'), opts.timeoutMs) : undefined;
    const onAbort = () => stop('canceled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits without reading its input
      child.stdin.end(opts.input);
    }
    const finish = (code: number | null, spawnError?: string) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      res.stdout = Buffer.concat(out).toString('utf8');
      res.stderr = Buffer.concat(err).toString('utf8');
      resolve({ ...res, exitCode: code ?? -1, spawnError });
    };
    child.once('error', (e) => finish(null, e.message));
    child.once('close', (code) => finish(code));
  });
}

/** sudo -n, and the entry point's verb for argv when it is installed. */
function privilegedArgv(argv: string[], sudo: string, entry: string | null): string[] {
  const verb = entry ? verbFor(argv) : null;
  // A VMM launch has no verb: it is the sudo fallback, which needs a rule of its own.
  return verb ? [sudo, '-n', '--', entry!, ...verb] : [sudo, '-n', '--', ...argv];
}

async function checkPrivileged(isRoot: boolean, sudo: string, entry: string | null): Promise<void> {
  if (isRoot) return;
  const argv = entry ? [sudo, '-n', '--', entry, 'check'] : [sudo, '-n', '--', 'true'];
  const r = await runChild(argv, { timeoutMs: 15_000 });
  if (r.exitCode === 0) return;
  const result = { argv, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  const e = commandError(['privileged-entry-point', 'check'], argv, result, r.spawnError);
  if (e.code !== ErrorCodes.COMMAND_FAILED) throw e;
  // sudo ran but the entry point is missing or broken: the same fix.
  throw new BangerError(
    ErrorCodes.SUDO_REQUIRED,
    `the privileged entry point does not work (${e.message}): ${SETUP_HINT}`,
    {
      details: { argv },
    },
  );
}

function commandError(argv: string[], full: string[], r: RunResult, spawnMsg?: string): BangerError {
  const err = (r.stderr || r.stdout || spawnMsg || '').trim().split('\n').slice(-3).join(' | ');
  if (
    full[0] !== argv[0] &&
    /password is required|a terminal is required|no tty present|not allowed to execute/i.test(r.stderr)
  ) {
    return new BangerError(
      ErrorCodes.SUDO_REQUIRED,
      `not allowed to run privileged commands (${argv.join(' ')}): ${SETUP_HINT}`,
      {
        details: { argv },
      },
    );
  }
  const refused = /banger-priv: refused: (.*) \[E_PRIV_REFUSED\]/.exec(r.stderr);
  if (refused) {
    return new BangerError(
      ErrorCodes.PRIV_REFUSED,
      `the privileged entry point refused ${argv.join(' ')}: ${refused[1]}`,
      {
        details: { argv },
      },
    );
  }
  if (r.exitCode === -1 || (spawnMsg && /ENOENT/.test(spawnMsg))) {
    return new BangerError(ErrorCodes.COMMAND_FAILED, `cannot run ${argv[0]}: not found or not executable`, {
      details: { argv },
    });
  }
  return new BangerError(
    ErrorCodes.COMMAND_FAILED,
    `${argv.join(' ')} failed (exit ${r.exitCode})${err ? ': ' + err : ''}`,
    { details: { argv, exitCode: r.exitCode, stderr: r.stderr.slice(-2000) } },
  );
}

/** Is the command on PATH? (doctor and backend selection). A file check, not a command. */
export function which(bin: string, pathEnv: string = process.env.PATH || ''): string | null {
  const candidates = bin.includes('/')
    ? [bin]
    : pathEnv
        .split(':')
        .filter(Boolean)
        .map((d) => `${d}/${bin}`);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}
