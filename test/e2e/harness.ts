// Harness for the end-to-end tests: a throwaway network namespace, the real CLI run inside it
// (`ip netns exec NS setsid -w node --import tsx app/main.ts ...`), host commands in it, and
// polling helpers. Everything a VM touches (bridge, TAPs, guest addresses, DNS on port 53)
// lives in the namespace; only loopback is used from the root namespace.
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { collect } from '../helpers/collect.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsAsConfig } from '../helpers/settings.js';
import { testCacheDir } from '../helpers/cache.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** What a finished command gave (RunResult, or the user fixture's Result). */
export type Output = Pick<RunResult, 'code' | 'stdout' | 'stderr'>;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run argv (no shell), collecting output; rejects on timeout after killing the process. */
export function run(
  argv: string[],
  o: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return collect(argv, { env: { ...process.env, ...o.env }, cwd: ROOT, timeoutMs: o.timeoutMs, input: o.input });
}

export class Netns {
  constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await must(['ip', 'netns', 'add', name]);
    const ns = new Netns(name);
    // Last resort if the test process dies before its finally: no namespace (and no VM) outlives it.
    const onExit = () => ns.destroySync();
    process.once('exit', onExit);
    ns.forget = () => process.off('exit', onExit);
    await must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  private forget: () => void = () => undefined;

  destroySync(): void {
    const pids = spawnSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).stdout ?? '';
    for (const p of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('ip', ['netns', 'delete', this.name]);
  }

  /** argv prefix that runs a command inside the namespace. */
  exec(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...argv];
  }

  run(argv: string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(this.exec(argv), o);
  }

  async pids(): Promise<number[]> {
    const r = await run(['ip', 'netns', 'pids', this.name]);
    return r.stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  }

  /** Kill every process in the namespace (engine, QEMU, stray ssh), then delete it. */
  async destroy(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const pids = await this.pids().catch(() => []);
      if (!pids.length) break;
      for (const p of pids) {
        try {
          process.kill(p, round === 0 ? 'SIGTERM' : 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // Give them a moment to go, but no longer than they take.
      const until = Date.now() + 1000;
      while (Date.now() < until && (await this.pids().catch(() => [])).length) await sleep(20);
    }
    await run(['ip', 'netns', 'delete', this.name]).catch(() => undefined);
    this.forget();
  }
}

async function must(argv: string[]): Promise<void> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
}

/**
 * The banger CLI from source. In a namespace when ns is given. setsid: no controlling
 * terminal, so ssh can never stop to prompt (it fails instead).
 */
export function banger(
  ns: Netns | null,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunResult> {
  const argv = ['setsid', '-w', process.execPath, '--import', 'tsx', join(ROOT, 'app', 'main.ts'), ...args];
  settingsAsConfig(env); // an engine started on demand reads config.json only
  return run(ns ? ns.exec(argv) : argv, { env, timeoutMs });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll fn until it returns a non-null value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null> | T | null,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Is pid alive and not a zombie? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readOr(`/proc/${pid}/stat`);
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return stat !== '' && state !== 'Z' && state !== 'X';
}

/** Command line of pid (NUL-separated args joined by spaces), '' when gone. */
export function cmdlineOf(pid: number): string {
  return readOr(`/proc/${pid}/cmdline`).split('\0').filter(Boolean).join(' ');
}

/**
 * SIGKILL every process whose environment holds marker (e.g. BANGER_BUILD_ID=e2e-123): the
 * detached engines a test started, wherever they run. Returns the pids killed.
 */
export function killByEnv(marker: string): number[] {
  const killed: number[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ = '';
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(marker)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* gone */
    }
  }
  return killed;
}

/** Parse JSON output, with the raw text in the error when it is not JSON. */
export function json<T>(r: Output, what: string): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${what}: expected JSON (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** r, after asserting it exited 0 (the message carries both streams). */
export function ok<R extends Output>(r: R, what: string): R {
  assert.is(r.code, 0, `${what} failed (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The environment of a QEMU-only engine whose dirs live under root (tag names its build id). */
export function qemuEnv(root: string, tag: string): Record<string, string> {
  return {
    BANGER_STATE_DIR: join(root, 'state'),
    BANGER_CONFIG_DIR: join(root, 'config'),
    BANGER_RUNTIME_DIR: join(root, 'run'),
    BANGER_CACHE_DIR: testCacheDir(),
    BANGER_BUILD_ID: `e2e-${tag}-${process.pid}`,
    FIRECRACKER_BIN: join(root, 'no-firecracker'),
    BANGER_BACKEND: 'qemu',
    BANGER_STOP_TIMEOUT_MS: '20000',
  };
}
