// A normal user's engine takes its network from the policy root installed for it (bridge,
// subnet, DNS port, chosen at `setup sudoers --apply`), so the engine and the entry point
// agree without the user restating them; a setting the user made still wins (and the entry
// point refuses it if root did not allow it). Root's engine has no policy: its defaults stand.
import { loadConfigWithSources, type Config } from '../config.js';
import type { Paths } from '../../base/paths.js';
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
