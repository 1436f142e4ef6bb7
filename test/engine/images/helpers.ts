// Shared setup for the image/kernel tests: a throwaway state dir and store, the real runner,
// and the private package cache that survives runs (test/helpers/cache.ts) so the Debian
// downloads happen once.
import { mkdtempSync, rmSync } from 'node:fs';
import { testCacheDir } from '../../helpers/cache.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePaths, ensureBaseDirs, type Paths } from '../../../app/base/paths.js';
import { Store } from '../../../app/engine/store.js';
import { createRunner, type ProcessRunner } from '../../../app/base/process.js';
import { nullLogger } from '../../../app/base/log.js';
import type { BuildProgress, VmRecord } from '../../../app/contract/api.js';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../../..');

export interface Env {
  dir: string;
  paths: Paths;
  store: Store;
  runner: ProcessRunner;
  progress: BuildProgress[];
  logs: string[];
  deps: {
    runner: ProcessRunner;
    store: Store;
    paths: Paths;
    logger: typeof nullLogger;
    emit: (p: BuildProgress) => void;
    emitLog: (id: string, c: string) => void;
  };
  cleanup(): void;
}

export function makeEnv(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'banger-img-'));
  const paths = resolvePaths({
    HOME: dir,
    BANGER_STATE_DIR: join(dir, 'state'),
    BANGER_CONFIG_DIR: join(dir, 'config'),
    BANGER_CACHE_DIR: testCacheDir(),
    BANGER_RUNTIME_DIR: join(dir, 'run'),
  });
  ensureBaseDirs(paths);
  const store = new Store(paths.dbFile);
  const runner = createRunner();
  const progress: BuildProgress[] = [];
  const logs: string[] = [];
  return {
    dir,
    paths,
    store,
    runner,
    progress,
    logs,
    deps: {
      runner,
      store,
      paths,
      logger: nullLogger,
      emit: (p) => progress.push(p),
      emitLog: (_id, c) => logs.push(c),
    },
    cleanup() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function debugfsCat(runner: ProcessRunner, img: string, path: string): Promise<string> {
  const r = await runner.run(['debugfs', '-R', `cat ${path}`, img]);
  return r.stdout;
}

export async function debugfsStat(runner: ProcessRunner, img: string, path: string): Promise<string> {
  const r = await runner.run(['debugfs', '-R', `stat ${path}`, img]);
  return r.stdout + r.stderr;
}

export function vmRow(name: string, image: string | null, kernel: string | null): VmRecord {
  const now = new Date().toISOString();
  return {
    id: `id-${name}`,
    name,
    backend: 'qemu',
    image,
    kernel,
    vcpus: 1,
    memoryMib: 256,
    diskBytes: 1 << 30,
    bootArgs: '',
    mac: '52:54:00:12:34:56',
    ip: null,
    state: 'stopped',
    pid: null,
    socketPath: null,
    tap: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    stoppedAt: null,
    lastError: null,
    exitCode: null,
    exitSignal: null,
  };
}
