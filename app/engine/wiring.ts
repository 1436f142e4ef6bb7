// Builds a concrete Engine from its parts. main.ts calls this (embedded TUI, detached
// service, in-process CLI); tests call it with their own paths, config and runner.
import type { Backend } from './api.js';
import { loadConfig, type Config } from './config.js';
import { Store } from './store.js';
import { createRunner, type ProcessRunner } from './process.js';
import type { VmDriver } from './vm/driver.js';
import { Engine } from './engine.js';
import { EventBus } from './events.js';
import { ensureBaseDirs, resolvePaths, type Paths } from '../paths.js';
import { createLogger, type Logger } from '../log.js';
import { buildId } from '../buildid.js';
import { QemuDriver } from './qemu/driver.js';
import { HostNetwork } from './network/host-network.js';

export interface WiringOptions {
  env?: Record<string, string | undefined>;
  paths?: Paths;
  config?: Partial<Config>;
  runner?: ProcessRunner;
  /** Runner for host network commands (tests confine it to a namespace). */
  netRunner?: ProcessRunner;
  logger?: Logger;
  mode?: 'embedded' | 'detached';
  /** Build the host-changing parts (network, DNS, drivers). false: records only. */
  full?: boolean;
  onShutdown?: () => void;
}

export function createEngine(o: WiringOptions = {}): Engine {
  const env = o.env ?? process.env;
  const paths = o.paths ?? resolvePaths(env);
  ensureBaseDirs(paths);
  const config: Config = { ...loadConfig(paths, env), ...o.config };
  const bus = new EventBus();
  const logger = o.logger ?? createLogger(paths.engineLog, (line) => bus.emit({ type: 'log', line }));
  const runner = o.runner ?? createRunner();
  const store = new Store(paths.dbFile);
  const drivers = new Map<Backend, VmDriver>();
  drivers.set('qemu', new QemuDriver({ runner, bin: config.qemuBin, accel: config.qemuAccel, logger }));
  const network = o.full && config.network === 'bridge'
    ? new HostNetwork({ runner: o.netRunner ?? runner, store, bridge: config.bridge, subnet: config.subnet, logger })
    : null;
  return new Engine({
    paths, config, store, runner, logger, bus, mode: o.mode ?? 'embedded', buildId: buildId(), drivers,
    network, dns: null, console: null, images: null, metrics: null, onShutdown: o.onShutdown,
  });
}
