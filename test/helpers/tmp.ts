// Throwaway state for a test: every banger path under one temp dir, removed afterwards.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePaths, ensureBaseDirs, type Paths } from '../../app/base/paths.js';

export interface TmpState {
  root: string;
  env: Record<string, string>;
  paths: Paths;
  cleanup(): void;
}

/** A file that passes the engine's KVM device check (exists, read/write for us). */
export function kvmStandIn(dir: string): string {
  const p = join(dir, 'kvm-stand-in');
  writeFileSync(p, '', { mode: 0o600 });
  return p;
}

export function tmpState(prefix = 'banger-test-'): TmpState {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const env = {
    BANGER_STATE_DIR: join(root, 'state'),
    BANGER_CONFIG_DIR: join(root, 'config'),
    BANGER_RUNTIME_DIR: join(root, 'run'),
    BANGER_CACHE_DIR: process.env.BANGER_TEST_CACHE_DIR || join(root, 'cache'),
    BANGER_DNS_ADDR: '127.0.0.1:0',
    // Tests that want a bridge run inside their own network namespace and set this to bridge.
    BANGER_NETWORK: 'none',
    // The simulator needs no KVM: its backend check looks at a stand-in, so the suite runs the
    // same on hosts with and without /dev/kvm.
    BANGER_KVM_PATH: kvmStandIn(root),
  };
  const paths = resolvePaths(env);
  ensureBaseDirs(paths);
  return { root, env, paths, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
