// An in-process engine on throwaway state, driving the Firecracker simulator: a real SQLite
// file, real VMM processes (the simulator), real sockets, FIFOs and console logs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../app/engine/wiring.js';
import { Store } from '../../app/engine/store.js';
import { ensureBaseDirs, resolvePaths } from '../../app/base/paths.js';
import type { Engine } from '../../app/engine/engine.js';
import { nullLogger, type Logger } from '../../app/base/log.js';
import { tmpState, type TmpState } from './tmp.js';
import { ROOT } from './cli.js';

export const SIM = join(ROOT, 'test', 'fixtures', 'firecracker-sim');

/** A kernel the simulator accepts (it only opens the file) and a real, tiny ext4 image. */
export function fakeAssets(root: string): { kernel: string; image: string } {
  const kernel = join(root, 'vmlinux');
  const elf = Buffer.alloc(4096);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]).copy(elf);
  writeFileSync(kernel, elf);
  const tree = join(root, 'rootfs');
  mkdirSync(join(tree, 'sbin'), { recursive: true });
  writeFileSync(join(tree, 'sbin', 'init'), '#!/bin/sh\n', { mode: 0o755 });
  const image = join(root, 'rootfs.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, image, '64M']);
  return { kernel, image };
}

export interface TestEngine {
  t: TmpState;
  engine: Engine;
  /** The engine's database, for seeding and checking records. */
  store: Store;
  close(): Promise<void>;
}

export async function simEngine(
  o: { env?: Record<string, string>; logger?: Logger; config?: Record<string, unknown> } = {},
): Promise<TestEngine> {
  const t = tmpState();
  const env = { ...t.env, FIRECRACKER_BIN: SIM, BANGER_BACKEND: 'firecracker', ...o.env };
  const paths = resolvePaths(env);
  ensureBaseDirs(paths);
  const store = new Store(paths.dbFile);
  const engine = createEngine({ env, full: true, logger: o.logger ?? nullLogger, config: o.config as never, store });
  const { kernel, image } = fakeAssets(t.root);
  const now = new Date().toISOString();
  store.insertKernel({
    name: 'default',
    path: kernel,
    initrdPath: null,
    source: 'add',
    version: null,
    createdAt: now,
  });
  store.insertImage({
    name: 'default',
    source: 'test',
    path: image,
    sizeBytes: statSync(image).size,
    sha256: 'test',
    buildLog: null,
    createdAt: now,
  });
  await engine.start();
  return {
    t,
    engine,
    store,
    async close() {
      for (const vm of store.listVms()) {
        if (vm.pid) {
          try {
            process.kill(vm.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      await engine.close();
      store.close();
      t.cleanup();
    },
  };
}

/** pids of simulator processes whose command line mentions this text. */
export function simPids(text: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('firecracker-sim') && l.includes(text))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
