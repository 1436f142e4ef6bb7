// How a front end finds its engine: attach to the one answering on the socket, hand a stale
// build over to a fresh one, or start one in the background.
import { ControlClient, ping } from '../control/client.js';
import { ensureEngine } from '../control/detach.js';
import { lockHolder } from '../control/lock.js';
import type { HelloInfo } from '../control/protocol.js';
import { buildId } from '../base/buildid.js';
import type { Paths } from '../base/paths.js';
import { createRunner } from '../base/process.js';
import { SETTINGS_ENV } from '../engine/config.js';
import { NATIVE_UDP_ADDON } from '../dns/native-udp.js';
import { existsSync } from 'node:fs';
import { assertTrustedDirs } from '../base/runtime-trust.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the engine runs from there so loader flags (tsx in development) resolve. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== '/' && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/**
 * How to start the engine. settingsFromEnv false (an engine a CLI verb starts on demand): the
 * settings variables (BANGER_NETWORK, FIRECRACKER_BIN, ...) are taken out of its environment,
 * so a one-off variable on one command does not stick for the engine's life; it reads
 * config.json. Paths (BANGER_STATE_DIR, XDG_*) stay: they say which engine this is.
 */
export function spawnOptions(paths: Paths, o: { settingsFromEnv?: boolean } = {}) {
  const env = o.settingsFromEnv === false ? Object.fromEntries(SETTINGS_ENV.map((k) => [k, undefined])) : undefined;
  return {
    spawnArgv: engineArgv(),
    socketPath: paths.controlSocket,
    logFile: paths.engineLog,
    runner: createRunner(),
    cwd: packageRoot(),
    env,
  };
}

/** The settings variables set in this environment (ignored by an engine started on demand). */
export function settingsInEnv(env: Record<string, string | undefined> = process.env): string[] {
  return SETTINGS_ENV.filter((k) => env[k] !== undefined && env[k] !== '');
}

/** The argv that starts this same binary as the engine service. */
export function engineArgv(env: Record<string, string | undefined> = process.env): string[] {
  return [process.execPath, ...engineV8Flags(env), ...process.execArgv, process.argv[1], 'engine', 'serve'];
}

/**
 * V8 flags for an engine process: one V8 worker thread, and no optimizing compiler (TurboFan)
 * while DNS is answered on the native thread. Together they take ~5 MiB off its idle RSS
 * (bench/startup.sh) and nothing hot runs in its JS then: control requests, SQLite and the 1 Hz
 * metrics are light. With the node:dgram fallback (addon not built, or BANGER_DNS_UDP=dgram)
 * every query is answered in JS, so TurboFan stays.
 */
export function engineV8Flags(env: Record<string, string | undefined> = process.env): string[] {
  const nativeDns = env.BANGER_DNS_UDP !== 'dgram' && existsSync(join(packageRoot(), NATIVE_UDP_ADDON));
  return nativeDns ? ['--v8-pool-size=1', '--no-opt'] : ['--v8-pool-size=1'];
}

/** Ask an engine of another build to step aside, and wait until its socket is free. */
export async function retireStale(paths: Paths, hello: HelloInfo, say: (s: string) => void): Promise<void> {
  say(
    `banger: the running engine (pid ${hello.pid}) is build ${hello.buildId}, this is ${buildId()}: handing over (VMs keep running)`,
  );
  const old = await ControlClient.connect(paths.controlSocket);
  await old.handover().catch(() => null);
  await old.close().catch(() => {});
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await ping(paths.controlSocket, { timeoutMs: 300 }))) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Every existing directory from the runtime root down to the runtime dir is ours and private
 * (E_UNTRUSTED_PATH otherwise): checked before any socket there is pinged or an engine started.
 */
export function trustRuntime(paths: Paths): void {
  assertTrustedDirs(paths.runtimeRoot ?? paths.runtimeDir, paths.runtimeDir, { allowMissing: true });
}

/** A client for the current engine, starting one (detached) if none runs. */
export async function connectEngine(paths: Paths, say: (s: string) => void): Promise<ControlClient> {
  trustRuntime(paths);
  // The common case in one round trip: an engine of this build answers the first hello.
  const first = await ControlClient.connect(paths.controlSocket, { timeoutMs: 1000 }).catch(() => null);
  if (first?.hello.buildId === buildId()) return first;
  await first?.close().catch(() => {});
  let hello = await ping(paths.controlSocket, { timeoutMs: 1000 });
  // A live lock holder that is slow to answer (a busy host, or still starting) is waited for,
  // not raced by a second engine.
  const deadline = Date.now() + 10_000;
  while (!hello && lockHolder(paths.engineLock) !== null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    hello = await ping(paths.controlSocket, { timeoutMs: 1000 });
  }
  if (hello && hello.buildId !== buildId()) await retireStale(paths, hello, say);
  const r = await ensureEngine(spawnOptions(paths, { settingsFromEnv: false }));
  if (r.started) {
    say(`banger: started the engine in the background (pid ${r.hello.pid}, socket ${paths.controlSocket})`);
    const ignored = settingsInEnv();
    if (ignored.length)
      say(
        `banger: it reads its settings from ${paths.configFile} only; ignored from the environment: ${ignored.join(', ')} (\`banger --detach\` starts an engine with them)`,
      );
  }
  return r.client;
}

/** banger --detach */
export async function detach(paths: Paths, out: (s: string) => void): Promise<number> {
  trustRuntime(paths);
  const hello = await ping(paths.controlSocket, { timeoutMs: 1000 });
  if (hello && hello.buildId === buildId()) {
    out(`banger engine already running: pid ${hello.pid}, socket ${paths.controlSocket} (${hello.mode})`);
    return 0;
  }
  if (hello) await retireStale(paths, hello, out);
  const r = await ensureEngine(spawnOptions(paths));
  await r.client.close();
  out(
    r.started
      ? `banger engine started: pid ${r.hello.pid}, socket ${paths.controlSocket}, log ${paths.engineLog}`
      : `banger engine already running: pid ${r.hello.pid}, socket ${paths.controlSocket}`,
  );
  return 0;
}
