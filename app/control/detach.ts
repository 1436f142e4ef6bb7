// Start the engine in the background from the same binary, so CLI verbs never need a service
// manager: ping the socket, and if nothing answers, spawn ourselves detached with output to
// the engine log, then poll until the new engine answers hello.
import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { BangerError, ErrorCodes } from '../base/errors.js';
import type { ProcessRunner, SpawnedProcess } from '../base/process.js';
import { ensurePrivateDir } from '../base/paths.js';
import { fileSize, readTail } from '../base/fsutil.js';
import { sleep } from '../base/time.js';
import { ControlClient, ping } from './client.js';
import type { HelloInfo } from './protocol.js';

export interface SpawnEngineOptions {
  /** Full argv of the engine, e.g. [process.execPath, binPath, 'engine', 'serve']. */
  argv: string[];
  logFile: string;
  /** Passed in by main.ts (the composition root); control never builds its own. */
  runner: ProcessRunner;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Spawn the engine in its own session with stdout/stderr appended to the log file. */
export function spawnDetachedEngine(o: SpawnEngineOptions): SpawnedProcess {
  if (o.argv.length === 0) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'no engine command to spawn');
  ensurePrivateDir(dirname(o.logFile));
  const fd = openSync(o.logFile, 'a', 0o600);
  try {
    return o.runner.spawn(o.argv, { stdio: ['ignore', fd, fd], detached: true, env: o.env, cwd: o.cwd });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(fd);
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  /** For the failure message. */
  logFile?: string;
  /** Only log bytes from this offset on belong to this start. */
  logFrom?: number;
  /** When the spawned child exits early we stop waiting (after a short grace). */
  child?: SpawnedProcess;
}

/** Poll ping until the engine answers; fails with E_ENGINE_UNAVAILABLE and the log tail. */
export async function waitForEngine(socketPath: string, o: WaitOptions = {}): Promise<HelloInfo> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const start = Date.now();
  let exitedAt: number | null = null;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void o.child?.exited.then((e) => {
    exit = e;
    exitedAt = Date.now();
  });
  let delay = 25;
  for (;;) {
    const info = await ping(socketPath, { timeoutMs: 500 });
    if (info) return info;
    const now = Date.now();
    // A child that exited may have lost a start race to another engine that is about to
    // listen, so give that one a moment before declaring failure.
    const childGone = exitedAt !== null && now - exitedAt > 1000;
    if (childGone || now - start >= timeoutMs) {
      const e = exit as { code: number | null; signal: NodeJS.Signals | null } | null;
      const why = childGone
        ? `the engine exited (${e?.signal ? `signal ${e.signal}` : `code ${e?.code}`}) before it was ready`
        : `the engine did not answer on ${socketPath} within ${timeoutMs} ms`;
      const tail = o.logFile ? readTail(o.logFile, 2000, o.logFrom).trim() : '';
      throw new BangerError(
        ErrorCodes.ENGINE_UNAVAILABLE,
        `${why}${tail ? `; engine log: ${lastLines(tail, 5).join(' | ')}` : ''}`,
        { details: { socketPath, logFile: o.logFile, logTail: tail, pid: o.child?.pid } },
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

export interface EnsureEngineOptions {
  spawnArgv: string[];
  socketPath: string;
  logFile: string;
  runner: ProcessRunner;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
}

export interface EnsuredEngine {
  client: ControlClient;
  /** True when the engine answering is the one this call spawned. */
  started: boolean;
  hello: HelloInfo;
  /** The pid this call spawned, if it spawned (it exits by itself when it lost a race). */
  spawnedPid?: number;
}

/** A client for the running engine, starting one in the background if none answers. */
export async function ensureEngine(o: EnsureEngineOptions): Promise<EnsuredEngine> {
  if (await ping(o.socketPath, { timeoutMs: 1000 })) {
    const client = await ControlClient.connect(o.socketPath);
    return { client, started: false, hello: client.hello };
  }
  const logFrom = fileSize(o.logFile);
  const child = spawnDetachedEngine({
    argv: o.spawnArgv,
    logFile: o.logFile,
    runner: o.runner,
    env: o.env,
    cwd: o.cwd,
  });
  await waitForEngine(o.socketPath, { timeoutMs: o.timeoutMs, logFile: o.logFile, logFrom, child });
  const client = await ControlClient.connect(o.socketPath);
  // Another front end may have won the race to start it; ours then loses the lock and
  // exits. (So spawnArgv must exec the engine itself, not wrap it in a forking shell.)
  return { client, started: client.hello.pid === child.pid, hello: client.hello, spawnedPid: child.pid };
}

function lastLines(text: string, n: number): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n);
}
