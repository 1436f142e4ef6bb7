// A normal user's engine takes its network from the policy root installed for it (bridge,
// subnet, DNS port, chosen at `setup sudoers --apply`), so the engine and the entry point
// agree without the user restating them; a setting the user made still wins (and the entry
// point refuses it if root did not allow it). Root's engine has no policy: its defaults stand.
import { loadConfigWithSources, type Config } from '../config.js';
import type { Paths } from '../../base/paths.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { SettingOrigin } from '../../contract/api.js';
import { installedEntry } from '../../base/priv-argv.js';
import { readOwnPolicy } from '../firecracker/jail-mode.js';

export interface PolicyNetwork {
  config: Config;
  sources: Partial<Record<keyof Config, SettingOrigin>>;
  /** The guest DNS port the bridge's port 53 is redirected to (not root); else undefined. */
  guestDnsPort?: number;
}

export function withPolicyNetwork(
  config: Config,
  sources: Partial<Record<keyof Config, SettingOrigin>>,
  env: Record<string, string | undefined>,
  isRoot = process.getuid?.() === 0,
): PolicyNetwork {
  if (isRoot) return { config, sources };
  const p = installedEntry(env) ? readOwnPolicy(env) : null;
  if (!p) return { config, sources };
  const out = { ...config };
  const src = { ...sources };
  const take = <K extends 'bridge' | 'subnet' | 'dnsAddr'>(k: K, v: Config[K] | undefined) => {
    if (v === undefined || src[k]) return;
    out[k] = v;
    src[k] = 'policy';
  };
  take('bridge', p.bridges?.[0]);
  take('subnet', p.subnets?.[0]);
  take('dnsAddr', p.dnsPort ? `127.0.0.1:${p.dnsPort}` : undefined);
  return { config: out, sources: src, ...(p.dnsPort ? { guestDnsPort: p.dnsPort } : {}) };
}

/** config.json and the environment, then the policy's network: what the engine will use. */
export function loadEngineSettings(paths: Paths, env: Record<string, string | undefined> = process.env): PolicyNetwork {
  const loaded = loadConfigWithSources(paths, env);
  return withPolicyNetwork(loaded.config, loaded.sources, env);
}

/**
 * The policy root installed after this engine started (setup sudoers --apply) gives it another
 * bridge or subnet: the entry point would refuse every change, so say what to do. (A new DNS
 * port alone only leaves guest DNS as it was until a restart.)
 */
export function assertPolicyUnchanged(started: PolicyNetwork, now: PolicyNetwork): void {
  const was = `bridge ${started.config.bridge}, subnet ${started.config.subnet}`;
  const is = `bridge ${now.config.bridge}, subnet ${now.config.subnet}`;
  if (was === is) return;
  throw new BangerError(
    ErrorCodes.ENGINE_RUNNING,
    `your policy now gives you ${is}, but this engine started with ${was}: restart it (banger engine stop) to use the new network`,
  );
}
