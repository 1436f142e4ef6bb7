// The engine as a service, end to end: real `banger` processes (from source, through tsx), a
// real detached engine, the Firecracker simulator as the VMM, and, for networking, a throwaway
// network namespace. Everything a test starts is found again by its temp root (in a process's
// command line or environment) and killed in cleanup: VMMs outlive engines on purpose.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../app/engine/store.js';
import { resolvePaths, ensureBaseDirs, type Paths } from '../../app/base/paths.js';
import { kvmStandIn } from '../helpers/tmp.js';
import { settingsAsConfig } from '../helpers/settings.js';
import { collect } from '../helpers/collect.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SIM = join(ROOT, 'test', 'fixtures', 'firecracker-sim');
export const MAIN = join(ROOT, 'app', 'main.ts');
const MiB = 1024 * 1024;

export interface Svc {
  root: string;
  env: Record<string, string>;
  paths: Paths;
  /** Network namespace every banger process of this test runs in (null: the host's, network none). */
  netns: string | null;
  /** Run `banger ARGS` as a real process (inside the netns, if any). */
  banger(args: string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<Result>;
  /** Run a host command (inside the netns, if any). */
  sh(argv: string[]): string;
  cleanup(): Promise<void>;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * A temp root with every banger path, a kernel and a default image registered (straight in
 * the store, before any engine runs), a fixed build id (other people editing app/ must not
 * trigger handovers mid-test) and the simulator as firecracker.
 */
export function svcState(opts: { bridge?: boolean; env?: Record<string, string> } = {}): Svc {
  // Short: the control socket path must fit a sockaddr_un.
  const root = mkdtempSync('/tmp/bsvc-');
  let netns: string | null = null;
  if (opts.bridge) {
    netns = `banger-svc-${process.pid}-${root.slice(-6)}`;
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }
  const env: Record<string, string> = {
    BANGER_STATE_DIR: join(root, 'state'),
    BANGER_CONFIG_DIR: join(root, 'config'),
    BANGER_RUNTIME_DIR: join(root, 'run'),
    BANGER_CACHE_DIR: join(root, 'cache'),
    // Inside our own netns the loopback is ours, so a fixed port is safe there.
    BANGER_DNS_ADDR: netns ? '127.0.0.1:15353' : '127.0.0.1:0',
    BANGER_NETWORK: netns ? 'bridge' : 'none',
    BANGER_BRIDGE: 'bgrsvc0',
    BANGER_SUBNET: '172.31.77.0/24',
    BANGER_BUILD_ID: 'svc-test-1',
    BANGER_BACKEND: 'firecracker',
    BANGER_STOP_TIMEOUT_MS: '2000',
    FIRECRACKER_BIN: SIM,
    BANGER_KVM_PATH: kvmStandIn(root),
    ...(netns ? { SIM_CHECK_TAP: '1' } : {}),
    ...opts.env,
  };
  const paths = resolvePaths(env);
  ensureBaseDirs(paths);
  seed(root, paths);

  const svc: Svc = {
    root,
    env,
    paths,
    netns,
    banger: async (args, o = {}) =>
      timed(args, run([...(await bangerArgv()), ...args], { ...env, ...o.env }, netns, o.timeoutMs)),
    sh: (argv) =>
      execFileSync(netns ? 'ip' : argv[0], netns ? ['netns', 'exec', netns, ...argv] : argv.slice(1), {
        encoding: 'utf8',
      }),
    async cleanup() {
      killAll(root, netns);
      if (netns) {
        try {
          execFileSync('ip', ['netns', 'delete', netns]);
        } catch {
          /* already gone */
        }
      }
      if (process.env.SVC_KEEP) process.stderr.write(`kept ${root}\n`);
      else rmSync(root, { recursive: true, force: true });
    },
  };
  return svc;
}

let compiled: Promise<string[]> | null = null;

/**
 * How to run banger: the source compiled to plain JS once per test process (as bin/banger runs
 * dist/), so 50 CLIs at once fit on two cores; SVC_TSX=1 runs the source through tsx instead.
 * The output sits under node_modules/.cache so the compiled files resolve our packages.
 */
export function bangerArgv(): Promise<string[]> {
  if (process.env.SVC_TSX) return Promise.resolve([process.execPath, '--import', 'tsx', MAIN]);
  compiled ??= (async () => {
    const { build } = await import('esbuild');
    const out = join(ROOT, 'node_modules', '.cache', 'banger-svc-test', String(process.pid));
    const files = (readdirSync(join(ROOT, 'app'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(ROOT, 'app', f));
    await build({
      entryPoints: files,
      outdir: out,
      outbase: ROOT,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
    });
    // The engine finds assets/ (guest scripts for the seed drive) beside its app/, as in dist.
    symlinkSync(join(ROOT, 'assets'), join(out, 'assets'));
    process.on('exit', () => rmSync(out, { recursive: true, force: true }));
    return [process.execPath, join(out, 'app', 'main.js')];
  })();
  return compiled;
}

/** A kernel (any ELF-looking file: the simulator only opens it) and a real, sparse ext4 image. */
function seed(root: string, paths: Paths): void {
  const kernel = join(root, 'vmlinux');
  const elf = Buffer.alloc(4096);
  elf.write('\x7fELF\x02\x01\x01\x00', 'latin1');
  writeFileSync(kernel, elf);
  const image = join(paths.imagesDir, 'default.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', image, '64M']);
  const store = new Store(paths.dbFile);
  try {
    const now = new Date().toISOString();
    store.insertKernel({
      name: 'default',
      path: kernel,
      initrdPath: null,
      source: 'add',
      version: null,
      createdAt: now,
    });
    store.insertImage({
      name: 'default',
      source: 'test',
      path: image,
      sizeBytes: 64 * MiB,
      sha256: '0'.repeat(64),
      buildLog: null,
      createdAt: now,
    });
  } finally {
    store.close();
  }
}

function run(argv: string[], env: Record<string, string>, netns: string | null, timeoutMs = 60_000): Promise<Result> {
  settingsAsConfig(env); // an engine started on demand reads config.json only
  const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  return collect(full, {
    env: { ...process.env, ...env },
    cwd: ROOT,
    timeoutMs,
    label: `banger ${argv.slice(3).join(' ')}`,
  });
}

/** Processes whose command line or environment mentions `root` (engines carry it in env, VMMs in argv). */
export function pidsUnder(root: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const env = cmd.includes(root) ? '' : readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (cmd.includes(root) || env.includes(root)) out.push(pid);
    } catch {
      /* gone, or not readable */
    }
  }
  return out;
}

/** Live simulator (VMM) processes of this test: one per running VM, never more. */
export function simPids(root: string): number[] {
  return pidsUnder(root).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      return cmd.includes(SIM) && cmd.includes(root) && !isZombie(pid);
    } catch {
      return false;
    }
  });
}

/** The engine processes of this test (`banger engine serve` with our env). */
export function enginePids(root: string): number[] {
  return pidsUnder(root).filter((pid) => {
    try {
      return (
        readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').includes('engine serve') && !isZombie(pid)
      );
    } catch {
      return false;
    }
  });
}

export function isZombie(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return 'ZX'.includes(s.charAt(s.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

function killAll(root: string, netns: string | null): void {
  const pids = new Set(pidsUnder(root));
  if (netns) {
    try {
      for (const p of execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).split('\n'))
        if (Number(p) > 0) pids.add(Number(p));
    } catch {
      /* no such netns */
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Session id (field 6 of /proc/PID/stat): a detached engine leads its own. */
export function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** Poll until fn() is truthy (or throw after timeoutMs). */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Parse a --json stdout, failing with the process's stderr if it is not JSON. */
export function json<T = unknown>(r: Result): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** Files left in the runtime dir, relative to it (sockets, FIFOs, dirs). */
export function runtimeEntries(paths: Paths): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      out.push(rel + n);
      walk(join(dir, n), `${rel}${n}/`);
    }
  };
  walk(paths.runtimeDir, '');
  return out;
}

async function timed(args: string[], p: Promise<Result>): Promise<Result> {
  const r = await p;
  if (process.env.SVC_TRACE) process.stderr.write(`[${r.ms} ms] banger ${args.join(' ')} -> ${r.code}\n`);
  return r;
}
