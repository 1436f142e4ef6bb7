// status: which settings differ from the defaults, and where each came from.
import type { SettingOrigin } from '../contract/api.js';
import { DEFAULT_CONFIG, type Config } from './config.js';

export function nonDefaultSettings(
  config: Config,
  sources: Partial<Record<keyof Config, SettingOrigin>>,
): { key: string; value: unknown; source: SettingOrigin }[] {
  return (Object.keys(DEFAULT_CONFIG) as (keyof Config)[])
    .filter((k) => config[k] !== DEFAULT_CONFIG[k])
    .map((k) => ({ key: k, value: config[k], source: sources[k] ?? 'override' }));
}
