// Disk full (issue 15): the state dir on a small tmpfs that is then filled. A VM disk and an
// image import fail with E_NO_SPACE naming what was being done, and leave nothing half-made:
// no record, no VM dir, no image file, no build dir. Freeing space makes the same calls work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../app/engine/wiring.js';
import { Store } from '../../app/engine/store.js';
import { ensureBaseDirs, resolvePaths, type Paths } from '../../app/base/paths.js';
import type { Engine } from '../../app/engine/engine.js';
import { nullLogger } from '../../app/base/log.js';
import { fakeAssets, SIM } from '../helpers/engine.js';
import { tmpState, type TmpState } from '../helpers/tmp.js';
import { isRoot, runIf } from '../helpers/skip.js';

// Mounting the small tmpfs needs root; elsewhere the runner reports these as skipped.
const it = runIf(test, isRoot ? null : 'needs root (mounts a small tmpfs)');
let t: TmpState;
let mnt: string;
let engine: Engine;
let store: Store;
let paths: Paths;
let mounted = false;

test.before(async () => {
  if (!isRoot) return;
  t = tmpState();
  mnt = join(t.root, 'small');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mnt]);
  mounted = true;
  const env = { ...t.env, BANGER_STATE_DIR: join(mnt, 'state'), FIRECRACKER_BIN: SIM, BANGER_BACKEND: 'firecracker' };
  paths = resolvePaths(env);
  ensureBaseDirs(paths);
  store = new Store(paths.dbFile);
  engine = createEngine({ env, full: true, logger: nullLogger, store });
  const { kernel, image } = fakeAssets(t.root); // outside the small fs
  await engine.addKernel({ name: 'default', path: kernel });
  const now = new Date().toISOString();
  store.insertImage({
    name: 'default',
    source: 'test',
    path: image,
    sizeBytes: 64 * 1024 * 1024,
    sha256: 'x',
    buildLog: null,
    createdAt: now,
  });
  await engine.start();
});

test.after(async () => {
  await engine?.close();
  store?.close();
  if (mounted) execFileSync('umount', [mnt]);
  t?.cleanup();
});

/** Fill the small fs, leaving about `leaveKiB` free (the database still needs a little). */
function fill(leaveKiB: number): string {
  const filler = join(mnt, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    /* ENOSPC: full */
  } finally {
    closeSync(fd);
  }
  execFileSync('truncate', ['-s', `-${leaveKiB}K`, filler]);
  return filler;
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

it('a VM whose disk does not fit: E_NO_SPACE, no record, no VM dir; with space it works', async () => {
  const filler = fill(128); // the sparse copy of the image needs ~300 KiB
  const err = await failure(engine.createVm({ name: 'big', disk: '64M' }));
  assert.is(err.code, 'E_NO_SPACE', err.message);
  assert.match(err.message, 'creating the disk of VM "big"');
  assert.is(store.getVm('big'), null, 'no record');
  assert.equal(readdirSync(paths.vmsDir), [], 'no VM dir');
  rmSync(filler);
  const vm = await engine.createVm({ name: 'big', disk: '64M' });
  assert.is(vm.state, 'created');
  await engine.removeVm('big');
});

it('an image import that does not fit: E_NO_SPACE, no record, no image file, no build dir', async () => {
  const tree = join(t.root, 'tree');
  for (const d of ['bin', 'sbin', 'usr/sbin']) mkdirSync(join(tree, d), { recursive: true });
  execFileSync('cp', ['/bin/busybox', join(tree, 'bin/busybox')]);
  execFileSync('ln', ['-s', '../bin/busybox', join(tree, 'sbin/init')]);
  execFileSync('cp', ['/usr/sbin/dropbear', join(tree, 'usr/sbin/dropbear')]);
  const filler = fill(512);
  try {
    const err = await failure(engine.importImage({ name: 'tight', path: tree }));
    assert.is(err.code, 'E_NO_SPACE', err.message);
    assert.match(err.message, 'building image "tight"');
    assert.is(store.getImage('tight'), null, 'no record');
    assert.equal(
      readdirSync(paths.imagesDir).filter((f) => f.startsWith('tight')),
      [],
      'no image file',
    );
    assert.equal(
      readdirSync(paths.buildsDir).filter((f) => f.endsWith('.tmp')),
      [],
      'no build dir',
    );
  } finally {
    rmSync(filler);
  }
});

test.run();
