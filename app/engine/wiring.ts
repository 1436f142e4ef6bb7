// Builds a concrete Engine from its parts. main.ts calls this (embedded TUI, detached
// service, in-process CLI); tests call it with their own paths, config and runner.
import { SeedBuilder } from './vm/seed/build.js';
import { loadConfigWithSources, type Config } from './config.js';
import { Store } from './store.js';
import { createRunner, type ProcessRunner } from '../base/process.js';
import { Engine, type EngineParts } from './engine.js';
import { createDrivers } from './backends.js';
import { EventBus } from './events.js';
import { ensureBaseDirs, resolvePaths, vmPaths, type Paths } from '../base/paths.js';
import { createLogger, type Logger } from '../base/log.js';
import { buildId } from '../base/buildid.js';
import { HostNetwork } from './network/host-network.js';
import { MetricsSampler } from './metrics/sampler.js';
import type { DnsPort, NetworkPort } from './ports.js';
import { DnsPortAdapter } from './dns-port.js';
import { createImagesPort } from './images-port.js';
import { ConsoleManager } from './vm/console.js';
import { parseHostPort } from './config.js';
import { withDnsServers } from './network/identity.js';
import { assertPolicyUnchanged, withPolicyNetwork } from './network/policy-defaults.js';
import { isLive } from '../contract/vm-facts.js';

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
  /** A store opened by the caller (tests seed records through it); default: opened here. */
  store?: Store;
}

export function createEngine(o: WiringOptions = {}): Engine {
  const env = o.env ?? process.env;
  const paths = o.paths ?? resolvePaths(env);
  ensureBaseDirs(paths);
  const { config, settingSources, guestDnsPort, policyCheck } = settingsFor(paths, env, o.config);
  const bus = new EventBus();
  const logger = o.logger ?? createLogger(paths.engineLog, (line) => bus.emit({ type: 'log', line }));
  const runner = o.runner ?? createRunner();
  const store = o.store ?? new Store(paths.dbFile);
  const drivers = createDrivers(config, runner, logger, paths);
  const network =
    o.full && config.network === 'bridge'
      ? new HostNetwork({
          runner: o.netRunner ?? runner,
          store,
          bridge: config.bridge,
          subnet: config.subnet,
          tag: paths.stateDir,
          logger,
          policyCheck,
          // Only when the guest listener is wanted: the redirect targets it.
          ...(guestDnsPort && config.dnsGateway ? { dnsRedirect: guestDnsPort } : {}),
        })
      : null;
  let dns: DnsPort | null = null;
  if (o.full) {
    const { host, port } = parseHostPort(config.dnsAddr);
    dns = new DnsPortAdapter({
      zone: config.dnsZone,
      host,
      port,
      logger,
      ...(guestDnsPort ? { gatewayPort: guestDnsPort } : {}),
      onChange: (records) => bus.emit({ type: 'dns', records }),
    });
  }
  // The guest-facing DNS listener needs the bridge's address: add it once the bridge is up.
  const netPort: NetworkPort | null =
    network && dns && config.dnsGateway ? withGatewayDns(network, dns, config.subnet, logger) : network;
  const metrics = o.full
    ? new MetricsSampler({
        listVms: () =>
          store
            .listVms()
            .filter((vm) => isLive(vm.state))
            .map((vm) => ({
              id: vm.id,
              name: vm.name,
              pid: vm.pid,
              tap: vm.tap,
              diskPath: vmPaths(paths, vm.id).disk,
              memoryMib: vm.memoryMib,
              state: vm.state,
            })),
        dnsCounters: () => dns?.counters() ?? {},
        onSample: (host, vms) => bus.emit({ type: 'metrics', host, vms }),
        onError: (err) => logger.warn('metrics sample failed', { err: String(err) }),
      })
    : null;
  return new Engine({
    paths,
    config,
    store,
    runner,
    logger,
    bus,
    mode: o.mode ?? 'embedded',
    buildId: buildId(),
    drivers,
    network: netPort,
    dns,
    console: new ConsoleManager({ runner, maxBytes: config.consoleLogMaxBytes }),
    seed: new SeedBuilder({ runner, paths, image: (name) => store.getImage(name) }),
    images: createImagesPort({ runner, store, paths, logger, emit: (e) => bus.emit(e) }),
    metrics,
    onShutdown: o.onShutdown,
    settingSources,
  });
}

export function withGatewayDns(net: NetworkPort, dns: DnsPort, subnet: string, logger: Logger): NetworkPort {
  return {
    async setupVm(vm, undo) {
      const r = await net.setupVm(vm, undo);
      await dns
        .addGatewayListener?.(r.gateway, subnet)
        .catch((err) => logger.warn('guest DNS listener failed', { err: String(err) }));
      // Our guests' port 53 must never lead to another user's listener on our port.
      await net
        .setDnsRedirect?.(!dns.gatewayHeld?.())
        .catch((err) => logger.warn('DNS redirect', { err: String(err) }));
      const resolvers = dns.guestResolvers?.(r.gateway);
      if (!resolvers || resolvers.via !== 'host') return r;
      // The gateway cannot answer yet: this guest asks the host's resolvers for its life.
      logger.warn('guest DNS listener down: VM gets the host resolvers', { vm: vm.name, dns: resolvers.servers });
      return { ...r, ipArg: withDnsServers(r.ipArg, resolvers.servers) };
    },
    teardownVm: (id, tap) => net.teardownVm(id, tap),
    releaseLease: (id) => net.releaseLease(id),
    tapName: (id) => net.tapName(id),
    gatewayIp: () => net.gatewayIp(),
    sweepOrphanTaps: (keep) => net.sweepOrphanTaps(keep),
    down: () => net.down(),
    preflight: () => net.preflight?.() ?? Promise.resolve(),
    setDnsRedirect: (on) => net.setDnsRedirect?.(on) ?? Promise.resolve(),
  };
}

/** config.json and the environment, then what the embedding code sets; with each one's origin. */
function settingsFor(
  paths: Paths,
  env: Record<string, string | undefined>,
  overrides: Partial<Config> = {},
): {
  config: Config;
  settingSources: NonNullable<EngineParts['settingSources']>;
  guestDnsPort?: number;
  policyCheck: () => void;
} {
  const loaded = loadConfigWithSources(paths, env);
  const settingSources: NonNullable<EngineParts['settingSources']> = { ...loaded.sources };
  for (const k of Object.keys(overrides) as (keyof Config)[]) settingSources[k] = 'override';
  // A normal user's network is the one root chose for them (their policy), unless set here.
  const base = { ...loaded.config, ...overrides };
  const p = withPolicyNetwork(base, settingSources, env);
  const policyCheck = () => assertPolicyUnchanged(p, withPolicyNetwork(base, settingSources, env));
  return { config: p.config, settingSources: p.sources, guestDnsPort: p.guestDnsPort, policyCheck };
}
