// Tests say settings through environment variables; an engine a CLI verb starts on demand reads
// config.json only. So the test runners of the CLI write those variables into config.json
// first (the engine that starts reads them there, as a user's would).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_KEYS } from '../../app/engine/config.js';

export function settingsAsConfig(env: Record<string, string | undefined>): void {
  const dir = env.BANGER_CONFIG_DIR;
  if (!dir) return;
  const cfg: Record<string, string> = {};
  for (const [k, key] of Object.entries(ENV_KEYS)) {
    const v = env[k];
    if (v !== undefined && v !== '') cfg[key] = v;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
}
