// Engine settings: defaults, then config.json in the config dir, then environment variables.
import { readFileSync } from 'node:fs';
import type { Backend } from '../contract/api.js';
import type { Paths } from '../base/paths.js';
import { BangerError, ErrorCodes } from '../base/errors.js';

export interface Config {
  firecrackerBin: string;
  /**
   * Launch Firecracker through sudo (the fallback)? auto: only when /dev/kvm exists but this
   * user cannot open it; never: always as the user; always: through sudo when not root.
   */
  firecrackerSudo: 'auto' | 'always' | 'never';
  /**
   * Run Firecracker under its jailer? auto: when one can be run (as root: jailerBin on PATH;
   * as a user: the entry point's policy names one); always: fail launches otherwise; never.
   */
  firecrackerJailer: 'auto' | 'always' | 'never';
  /** The jailer for a root engine (a user's comes from their policy). */
  jailerBin: string;
  qemuBin: string;
  /** The KVM device that the backend checks look at (tests point it at a stand-in file). */
  kvmPath: string;
  /** auto: KVM when /dev/kvm is usable and the CPU has vmx/svm, else TCG. */
  qemuAccel: 'auto' | 'kvm' | 'tcg';
  defaultBackend: Backend | 'auto';
  dnsAddr: string; // host:port of the loopback listener
  dnsZone: string; // e.g. "vm"
  /** Also serve the zone (and forward) on the bridge gateway, port 53. */
  dnsGateway: boolean;
  /** bridge: a TAP per VM on a NAT'd bridge; none: VMs get no NIC (no privileges needed). */
  network: 'bridge' | 'none';
  bridge: string;
  subnet: string; // CIDR
  /** Graceful-stop wait for VMs without their own; null: by the image's init (stopTimeoutFor). */
  stopTimeoutMs: number | null;
  consoleLogMaxBytes: number;
  defaultVcpus: number;
  defaultMemoryMib: number;
  defaultDisk: string;
  defaultImage: string | null;
  defaultKernel: string | null;
}

export const DEFAULT_CONFIG: Config = {
  firecrackerBin: 'firecracker',
  firecrackerSudo: 'auto',
  firecrackerJailer: 'auto',
  jailerBin: 'jailer',
  qemuBin: 'qemu-system-x86_64',
  kvmPath: '/dev/kvm',
  qemuAccel: 'auto',
  defaultBackend: 'auto',
  dnsAddr: '127.0.0.1:42069',
  dnsZone: 'vm',
  dnsGateway: true,
  network: 'bridge',
  bridge: 'banger0',
  subnet: '172.30.0.0/24',
  stopTimeoutMs: null,
  consoleLogMaxBytes: 4 * 1024 * 1024,
  defaultVcpus: 1,
  defaultMemoryMib: 256,
  defaultDisk: '1G',
  defaultImage: null,
  defaultKernel: null,
};

export const ENV_KEYS: Record<string, keyof Config> = {
  FIRECRACKER_BIN: 'firecrackerBin',
  BANGER_FIRECRACKER_BIN: 'firecrackerBin',
  BANGER_FIRECRACKER_SUDO: 'firecrackerSudo',
  BANGER_FIRECRACKER_JAILER: 'firecrackerJailer',
  BANGER_JAILER_BIN: 'jailerBin',
  BANGER_QEMU_BIN: 'qemuBin',
  BANGER_QEMU_ACCEL: 'qemuAccel',
  BANGER_KVM_PATH: 'kvmPath',
  BANGER_BACKEND: 'defaultBackend',
  BANGER_DNS_ADDR: 'dnsAddr',
  BANGER_DNS_ZONE: 'dnsZone',
  BANGER_DNS_GATEWAY: 'dnsGateway',
  BANGER_NETWORK: 'network',
  BANGER_BRIDGE: 'bridge',
  BANGER_SUBNET: 'subnet',
  BANGER_STOP_TIMEOUT_MS: 'stopTimeoutMs',
  BANGER_CONSOLE_LOG_MAX: 'consoleLogMaxBytes',
};

function coerce(key: keyof Config, raw: unknown): unknown {
  const def = DEFAULT_CONFIG[key];
  if (key === 'stopTimeoutMs' && raw === null) return null;
  if (typeof def === 'number' || key === 'stopTimeoutMs') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0)
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `config ${key}: expected a number, got "${raw}"`);
    return n;
  }
  if (typeof def === 'boolean') return raw === true || raw === 'true' || raw === '1' || raw === 'yes';
  return raw === null ? null : String(raw);
}

/** The environment variables that carry settings (an engine started on demand ignores them). */
export const SETTINGS_ENV = Object.keys(ENV_KEYS);

export type SettingSource = 'config' | 'env';

export function loadConfig(paths: Paths, env: Record<string, string | undefined> = process.env): Config {
  return loadConfigWithSources(paths, env).config;
}

/** The settings, and for each one not left at its default, where it came from. */
export function loadConfigWithSources(
  paths: Paths,
  env: Record<string, string | undefined> = process.env,
): { config: Config; sources: Partial<Record<keyof Config, SettingSource>> } {
  const sources: Partial<Record<keyof Config, SettingSource>> = {};
  const cfg: Config = { ...DEFAULT_CONFIG };
  let fileCfg: Record<string, unknown> = {};
  try {
    fileCfg = JSON.parse(readFileSync(paths.configFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `cannot read ${paths.configFile}: ${(err as Error).message}`);
    }
  }
  const set = (k: keyof Config, v: unknown) => {
    (cfg as unknown as Record<string, unknown>)[k] = coerce(k, v);
  };
  for (const [k, v] of Object.entries(fileCfg)) {
    if (!(k in DEFAULT_CONFIG))
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `config: unknown key "${k}" in ${paths.configFile}`);
    set(k as keyof Config, v);
    sources[k as keyof Config] = 'config';
  }
  for (const [envKey, k] of Object.entries(ENV_KEYS)) {
    if (env[envKey] !== undefined && env[envKey] !== '') {
      set(k, env[envKey]);
      sources[k] = 'env';
    }
  }
  if (!['auto', 'kvm', 'tcg'].includes(cfg.qemuAccel)) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `config qemuAccel: expected auto, kvm or tcg, got "${cfg.qemuAccel}"`,
    );
  }
  for (const k of ['firecrackerSudo', 'firecrackerJailer'] as const) {
    if (!['auto', 'always', 'never'].includes(cfg[k]))
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `config ${k}: expected auto, always or never, got "${cfg[k]}"`,
      );
  }
  if (!['bridge', 'none'].includes(cfg.network)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `config network: expected bridge or none, got "${cfg.network}"`);
  }
  cfg.dnsZone = cfg.dnsZone.replace(/\.+$/, '').toLowerCase();
  return { config: cfg, sources };
}

/** "127.0.0.1:42069" -> { host, port } */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s.trim());
  if (!m) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `expected HOST:PORT, got "${s}"`);
  const port = Number(m[2]);
  if (port > 65535) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `port out of range in "${s}"`);
  return { host: m[1], port };
}
