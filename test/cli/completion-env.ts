// Shared by the shell completion tests: a fake engine on the real control socket with a few
// named VMs and images, and a `banger` on PATH that runs this checkout (tsx, resolved here so
// it works from any directory), as a shell would find it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { VmRecord } from '../../app/contract/api.js';
import { startServer, type Running } from '../control/helpers.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { ROOT, cli } from '../helpers/cli.js';

class NamesEngine extends FakeEngine {
  override async listVms(): Promise<VmRecord[]> {
    return [
      { name: 'api', state: 'running' },
      { name: 'db', state: 'stopped' },
    ] as VmRecord[];
  }
  override async listImages() {
    return [{ name: 'default' }, { name: 'debian' }] as never;
  }
}

export interface CompletionEnv {
  env: Record<string, string>;
  dir: string;
  script(shell: 'bash' | 'zsh' | 'fish'): Promise<string>;
  stop(): Promise<void>;
}

export async function completionEnv(): Promise<CompletionEnv> {
  const srv: Running = await startServer({ engine: new NamesEngine({ transitionMs: 0 }) });
  const bin = join(srv.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const banger = join(bin, 'banger');
  const tsx = import.meta.resolve('tsx');
  writeFileSync(
    banger,
    `#!/bin/sh\nexec "${process.execPath}" --import ${tsx} "${join(ROOT, 'app', 'main.ts')}" "$@"\n`,
  );
  chmodSync(banger, 0o755);
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    BANGER_RUNTIME_DIR: join(srv.dir, 'run'),
    BANGER_STATE_DIR: join(srv.dir, 'state'),
    // The 200 ms default is for people; a test host shared by many jobs gets more slack
    // (complete.test.ts checks the default against a silent engine).
    BANGER_COMPLETION_TIMEOUT_MS: '5000',
  };
  return {
    env,
    dir: srv.dir,
    async script(shell) {
      const r = await cli(['completion', shell], env);
      if (r.code !== 0) throw new Error(`banger completion ${shell}: ${r.stderr}`);
      return r.stdout;
    },
    stop: () => srv.stop(),
  };
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
