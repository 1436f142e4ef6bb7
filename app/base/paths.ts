// Every location banger uses, built in one place, so no part guesses another's files. Each
// base follows the XDG variables and can be overridden by a BANGER_* variable; dirs are
// created owner-only.
import { mkdirSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from './sha256.js';
import { assertTrustedDirs } from './runtime-trust.js';

function stateTag(stateDir: string): string {
  return sha256Hex(stateDir).slice(0, 8);
}

export interface Paths {
  stateDir: string;
  configDir: string;
  runtimeDir: string;
  /** Where runtime dirs hang from ($XDG_RUNTIME_DIR/banger, /tmp/banger-UID, or runtimeDir). */
  runtimeRoot?: string;
  cacheDir: string;
  dbFile: string;
  configFile: string;
  vmsDir: string;
  imagesDir: string;
  kernelsDir: string;
  buildsDir: string;
  keysDir: string;
  sshKey: string;
  engineLog: string;
  engineLock: string;
  controlSocket: string;
}

type Env = Record<string, string | undefined>;

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

export function resolvePaths(env: Env = process.env): Paths {
  const home = env.HOME || homedir();
  const stateDir = env.BANGER_STATE_DIR || join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'banger');
  const configDir = env.BANGER_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(home, '.config'), 'banger');
  const cacheDir = env.BANGER_CACHE_DIR || join(env.XDG_CACHE_HOME || join(home, '.cache'), 'banger');
  // One engine per state dir, so its sockets live in a dir named for the state dir: two state
  // dirs (BANGER_STATE_DIR, another HOME) never share a control socket.
  const runtimeRoot =
    env.BANGER_RUNTIME_DIR ||
    (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'banger') : join('/tmp', `banger-${uid()}`));
  const runtimeDir = env.BANGER_RUNTIME_DIR || join(runtimeRoot, stateTag(stateDir));
  return {
    stateDir,
    configDir,
    runtimeDir,
    runtimeRoot,
    cacheDir,
    dbFile: join(stateDir, 'banger.db'),
    configFile: join(configDir, 'config.json'),
    vmsDir: join(stateDir, 'vms'),
    imagesDir: join(stateDir, 'images'),
    kernelsDir: join(stateDir, 'kernels'),
    buildsDir: join(stateDir, 'builds'),
    keysDir: join(stateDir, 'keys'),
    sshKey: join(stateDir, 'keys', 'id_ed25519'),
    engineLog: join(stateDir, 'engine.log'),
    engineLock: join(stateDir, 'engine.lock'),
    controlSocket: join(runtimeDir, 'engine.sock'),
  };
}

/** Create a directory (and parents) and force it to 0700: state and sockets are private. */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/**
 * The runtime dir, created owner-only only below directories we trust (see runtime-trust.ts),
 * and checked again once created: a planted /tmp/banger-UID is refused, never used.
 */
export function ensureRuntimeDir(p: Paths): string {
  const root = p.runtimeRoot ?? p.runtimeDir;
  assertTrustedDirs(root, p.runtimeDir, { allowMissing: true });
  ensurePrivateDir(p.runtimeDir);
  assertTrustedDirs(root, p.runtimeDir);
  return p.runtimeDir;
}

export function ensureBaseDirs(p: Paths): void {
  ensureRuntimeDir(p);
  for (const d of [p.stateDir, p.configDir, p.cacheDir, p.vmsDir, p.imagesDir, p.kernelsDir, p.buildsDir, p.keysDir]) {
    ensurePrivateDir(d);
  }
}

/** What host binaries said about themselves (base/probe.ts). */
export function probeCacheFile(p: Pick<Paths, 'cacheDir'>): string {
  return join(p.cacheDir, 'probes.json');
}

/** Where every VM's runtime dir (sockets, console FIFO) lives; reconcile sweeps it. */
export function vmRuntimeRoot(p: Pick<Paths, 'runtimeDir'>): string {
  return join(p.runtimeDir, 'vms');
}

/** Every file of one VM. State (disk, logs) survives reboots; the runtime dir does not. */
export interface VmPaths {
  dir: string;
  runtimeDir: string;
  disk: string;
  /** The seed drive (cidata ext4), rebuilt at every boot (app/engine/vm/seed/). */
  seed: string;
  consoleLog: string;
  consoleFifo: string;
  knownHosts: string;
  vmmLog: string;
  metrics: string;
  /** Snapshots of this VM, one dir each. */
  snapshotsDir: string;
  /** QEMU's migration channel while a snapshot is saved or loaded. */
  migrateSocket: string;
  /** The VMM's control socket: Firecracker's API socket or QEMU's QMP socket. */
  vmmSocket: (backend: 'firecracker' | 'qemu') => string;
}

/**
 * The ssh master's control socket of a VM (vm exec/cp; the engine closes it when the VM stops):
 * keyed by id and IP, so a VM back with a new address starts afresh.
 */
export function sshControlPath(runtimeDir: string, id: string, ip: string): string {
  return join(runtimeDir, 'ssh', `${sha256Hex(`${id}@${ip}`).slice(0, 24)}.sock`);
}

export function vmPaths(p: Pick<Paths, 'vmsDir' | 'runtimeDir'>, vmId: string): VmPaths {
  const dir = join(p.vmsDir, vmId);
  const runtimeDir = join(vmRuntimeRoot(p), vmId);
  return {
    dir,
    runtimeDir,
    disk: join(dir, 'disk.ext4'),
    seed: join(dir, 'seed.ext4'),
    consoleLog: join(dir, 'console.log'),
    consoleFifo: join(runtimeDir, 'console.in'),
    knownHosts: join(dir, 'known_hosts'),
    vmmLog: join(dir, 'vmm.log'),
    metrics: join(dir, 'metrics.json'),
    snapshotsDir: join(dir, 'snapshots'),
    migrateSocket: join(runtimeDir, 'migrate.sock'),
    vmmSocket: (backend) => join(runtimeDir, backend === 'qemu' ? 'qmp.sock' : 'api.sock'),
  };
}
