// Run the banger CLI from source as a real process, with a test's environment.
import { spawn } from 'node:child_process';
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
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'app', 'main.ts'), ...args], {
      env: { ...process.env, ...env },
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`banger ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    // 'close', not 'exit': output can still be in the pipes when the exit arrives.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
