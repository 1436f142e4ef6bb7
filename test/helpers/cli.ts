// Run the banger CLI from source as a real process, with a test's environment.
import { collect } from './collect.js';
import { join } from 'node:path';
import { settingsAsConfig } from './settings.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(
  args: string[],
  env: Record<string, string>,
  opts: { timeoutMs?: number; input?: string; settingsAsConfig?: boolean } = {},
): Promise<CliResult> {
  // An engine this CLI starts reads config.json only (see settings.ts).
  if (opts.settingsAsConfig !== false) settingsAsConfig(env);
  // stdin a pipe (ended at once, or with the input), as a shell pipeline would give.
  return collect([process.execPath, '--import', 'tsx', join(ROOT, 'app', 'main.ts'), ...args], {
    env: { ...process.env, ...env },
    cwd: ROOT,
    input: opts.input ?? '',
    timeoutMs: opts.timeoutMs,
    label: `banger ${args.join(' ')}`,
  });
}
