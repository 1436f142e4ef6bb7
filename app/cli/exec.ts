// `vm exec` and `vm cp` run over ssh with banger's key, through one OpenSSH master connection
// per VM (ControlMaster/ControlPersist): the first exec pays the handshake, the next ones open
// a channel on the live connection. Why not a vsock agent: QEMU microvm and Firecracker differ
// in vsock (vhost-vsock vs a Unix-socket proxy), the busybox image would need an agent built
// and kept in step with the host, and ssh already gives auth, separate streams, exit codes and
// ptys on both backends; a warm master leaves ssh's per-exec cost at a channel open.
import { existsSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { StdioOptions } from 'node:child_process';
import type { EngineApi } from '../contract/api.js';
import type { ProcessRunner } from '../base/process.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { ensurePrivateDir, sshControlPath } from '../base/paths.js';
import { clientSsh, type SshPaths } from './ssh.js';

/** How long an idle master stays (seconds): long enough for a script's run of execs. */
const PERSIST_S = 600;
/** A master lock older than this was left by a banger that died (ssh's ConnectTimeout is 10 s). */
const LOCK_STALE_MS = 15_000;

export interface ExecTarget {
  /** ssh argv ending with root@IP (through the master, or a connection of its own): append the remote words. */
  argv: string[];
  controlPath: string;
  /** Through the master (this process holds its one session), or a connection of its own. */
  via: 'master' | 'direct';
  /** Is the master still up? (after an exit 255: ssh's failure or the command's own 255; direct: true) */
  masterAlive(): Promise<boolean>;
}

export { sshControlPath as controlPathFor };

function withOptions(argv: string[], extra: string[]): string[] {
  return [argv[0], ...extra, ...argv.slice(1)];
}

/** Checks the VM runs, starts its master if none is up, and returns the argv that uses it. */
export async function execTarget(
  engine: EngineApi,
  paths: SshPaths,
  runner: ProcessRunner,
  name: string,
): Promise<ExecTarget> {
  const { argv: base, vm } = await clientSsh(engine, paths, name);
  ensurePrivateDir(join(paths.runtimeDir, 'ssh'));
  const controlPath = sshControlPath(paths.runtimeDir, vm.id, vm.ip!);
  // ssh binds PATH.<16 random chars> first; a Unix socket path has 107 bytes at most.
  if (Buffer.byteLength(controlPath) + 17 > 107)
    throw new BangerError(
      ErrorCodes.INVALID_STATE,
      `the runtime dir ${paths.runtimeDir} is too long for an ssh control socket: set BANGER_RUNTIME_DIR shorter`,
    );
  // A connect to the master's socket, not `ssh -O check`: no process, well under a millisecond.
  const check = () => socketAnswers(controlPath);
  // One session at a time on the master (see takeSession); a second one meanwhile goes alone.
  if (!takeSession(controlPath))
    return {
      argv: withOptions(base, ['-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-o', 'ConnectTimeout=10']),
      controlPath,
      via: 'direct',
      masterAlive: () => Promise.resolve(true),
    };
  if (!(await check())) await oneMaster(controlPath, () => startMaster(runner, base, controlPath, vm.name));
  return {
    argv: withOptions(base, ['-o', 'ControlMaster=no', '-o', `ControlPath=${controlPath}`]),
    controlPath,
    via: 'master',
    masterAlive: check,
  };
}

/*
 * Why one session at a time on the master: the busybox guest's dropbear (2022.83) sometimes
 * ends a new session channel, EOF then CLOSE with no exec reply and no exit status, while
 * other sessions on the same connection end around it; the command may have started (it is
 * then cut off) and the mux client exits 255 with nothing on stderr. Four parallel execs
 * through one master hit it in 9 of 15 rounds here, never one at a time, and never on a
 * connection of its own. So this process holds the master's session slot (a lock file with
 * its pid, gone at exit) and a banger that finds it taken opens its own connection: parallel
 * execs pay a handshake each, sequential ones keep the warm master. A retry could not be
 * made safe: the cut-off command may have done part of its work.
 */
export function takeSession(controlPath: string): boolean {
  const lock = `${controlPath}.session`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      process.once('exit', () => {
        if (readOr(lock) === String(process.pid)) rmSync(lock, { force: true });
      });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(readOr(lock));
    if (holder > 0 && pidAlive(holder)) return false;
    rmSync(lock, { force: true }); // left by a banger that was killed
  }
  return false;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Does a live master listen on path? (a dead master leaves its socket file behind) */
function socketAnswers(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Parallel first execs (xargs -P) start one master: the first takes a lock file and starts it,
 * the others wait for its socket to answer. A lock left by a killed banger is taken over once
 * it is older than a master's connect timeout.
 */
async function oneMaster(controlPath: string, start: () => Promise<void>): Promise<void> {
  const lock = `${controlPath}.lock`;
  const deadline = Date.now() + 2 * LOCK_STALE_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await socketAnswers(controlPath)) return;
    if (Date.now() - mtimeOr(lock) > LOCK_STALE_MS || Date.now() > deadline) rmSync(lock, { force: true });
    await new Promise((r) => setTimeout(r, 25));
  }
  try {
    if (!(await socketAnswers(controlPath))) await start();
  } finally {
    rmSync(lock, { force: true });
  }
}

function mtimeOr(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

async function startMaster(runner: ProcessRunner, base: string[], controlPath: string, name: string): Promise<void> {
  rmSync(controlPath, { force: true }); // a dead master's socket
  // ssh -f forks after auth and the forked master may keep stderr: a file, not a pipe we wait on.
  const errFile = `${controlPath}.err`;
  const fd = openSync(errFile, 'w', 0o600);
  const argv = withOptions(base, [
    '-M',
    '-N',
    '-f',
    '-o',
    `ControlPath=${controlPath}`,
    '-o',
    `ControlPersist=${PERSIST_S}`,
    '-o',
    'ConnectTimeout=10',
    // A guest that goes away ends its master instead of leaving a hung socket.
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
  ]);
  let code: number | null;
  try {
    const p = runner.spawn(argv, { stdio: ['ignore', 'ignore', fd] as StdioOptions, detached: false });
    code = (await p.exited).code;
  } finally {
    closeSync(fd);
  }
  const why = readFileSync(errFile, 'utf8').trim();
  rmSync(errFile, { force: true });
  if (code !== 0)
    throw new BangerError(
      ErrorCodes.UNREACHABLE,
      `VM "${name}" is not reachable over ssh${why ? `: ${why.split('\n').pop()}` : ` (ssh exit ${code})`}`,
    );
}

/** The remote words as one shell-safe string: ssh joins its arguments with spaces for the guest's shell. */
export function shellQuote(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface ExecOptions {
  stdin?: boolean;
  tty?: boolean;
}

/**
 * The remote command line: the words, then `exit $?`, so the guest's shell waits for the
 * command instead of exec'ing it and reports a death by signal N as 128+N (as a shell does),
 * where ssh would give 255.
 */
export function remoteLine(words: string[]): string {
  return `${shellQuote(words)}; exit $?`;
}

/** Run words in the guest with this terminal's streams; the command's exit code, never ssh's 255. */
export async function execIn(t: ExecTarget, runner: ProcessRunner, name: string, words: string[], o: ExecOptions) {
  const flags = [o.tty ? '-tt' : '-T', ...(o.stdin ? [] : ['-n'])];
  const p = runner.spawn([...withOptions(t.argv, flags), '--', remoteLine(words)], {
    stdio: [o.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    detached: false,
  });
  const { code, signal } = await p.exited;
  if (code === 255 && !(await t.masterAlive()))
    throw new BangerError(ErrorCodes.UNREACHABLE, `VM "${name}" went away during the command`);
  return code ?? 128 + signalNumber(signal);
}

function signalNumber(s: NodeJS.Signals | null): number {
  return (s && (osConstants.signals as Record<string, number>)[s]) || 1;
}
