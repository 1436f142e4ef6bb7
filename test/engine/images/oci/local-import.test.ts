// Imports from local transports (an OCI layout, an oci-archive, a docker-archive made by
// skopeo from it), a cancelled import (nothing left, the layer cache still sound), and bad
// local REFs refused before anything starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ImageService } from '../../../../app/engine/images/image-service.js';
import { which } from '../../../../app/base/process.js';
import { resolvePaths, ensureBaseDirs } from '../../../../app/base/paths.js';
import { testCacheDir } from '../../../helpers/cache.js';
import { missingReason, runIf } from '../../../helpers/skip.js';
import { makeEnv, debugfsCat, type Env } from '../helpers.js';
import { addImage, tagLayout, busyboxLayers, BUSYBOX_CONFIG } from './fixtures.js';
import { code } from './helpers.js';

const reason = missingReason(
  ['skopeo', 'debugfs', 'mkfs.ext4'].filter((b) => !which(b, `${process.env.PATH}:/usr/sbin:/sbin`)),
);
const it = runIf(test, reason);

let env: Env;
let svc: ImageService;
let layout: string;

async function setup(): Promise<void> {
  env = makeEnv();
  const cache = join(env.dir, 'cache');
  mkdirSync(cache);
  symlinkSync(join(testCacheDir(), 'debs'), join(cache, 'debs'));
  env.paths = resolvePaths({
    HOME: env.dir,
    BANGER_STATE_DIR: join(env.dir, 'state'),
    BANGER_CACHE_DIR: cache,
    BANGER_RUNTIME_DIR: join(env.dir, 'run'),
    BANGER_CONFIG_DIR: join(env.dir, 'config'),
  });
  ensureBaseDirs(env.paths);
  svc = new ImageService({ ...env.deps, paths: env.paths });
  layout = join(env.dir, 'layout');
  tagLayout(layout, { bb: await addImage(layout, { layers: busyboxLayers(), config: BUSYBOX_CONFIG }) });
}

test.before(() => (reason ? undefined : setup().catch((e) => (console.error('setup failed:', e), Promise.reject(e)))));
test.after(() => env?.cleanup());

function nothingLeft(name: string): void {
  assert.is(env.store.getImage(name), null);
  assert.not.ok(existsSync(join(env.paths.imagesDir, `${name}.ext4`)));
  assert.equal(
    readdirSync(env.paths.buildsDir).filter((f) => !f.endsWith('.log')),
    [],
  );
}

/** Every blob in the layer cache is whole (its bytes hash to its name): none poisoned. */
function cacheSound(): void {
  const d = join(env.paths.cacheDir, 'oci/blobs/sha256');
  for (const f of readdirSync(d))
    assert.is(
      createHash('sha256')
        .update(readFileSync(join(d, f)))
        .digest('hex'),
      f,
      `cache blob ${f}`,
    );
}

it('a cancelled import leaves no image, no work dir and a sound layer cache', async () => {
  const stop = new AbortController();
  const off = (p: { phase: string }) => {
    if (p.phase.startsWith('apply layer 2')) stop.abort();
  };
  const svc2 = new ImageService({ ...env.deps, paths: env.paths, emit: off });
  assert.is(await code(svc2.import({ name: 'cancelled', path: `oci:${layout}:bb` }, stop.signal)), 'E_CANCELLED');
  nothingLeft('cancelled');
  cacheSound();
});

it('oci-archive:FILE and docker-archive:FILE (made from the oci: layout the other tests import) give the same filesystem and config', async () => {
  const ociArchive = join(env.dir, 'bb-oci.tar');
  const dockerArchive = join(env.dir, 'bb-docker.tar');
  execFileSync('skopeo', ['copy', '-q', `oci:${layout}:bb`, `oci-archive:${ociArchive}`]);
  execFileSync('skopeo', ['copy', '-q', `oci:${layout}:bb`, `docker-archive:${dockerArchive}:bb:latest`]);
  for (const [name, ref] of [
    ['from-oci-archive', `oci-archive:${ociArchive}`],
    ['from-docker-archive', `docker-archive:${dockerArchive}`],
  ]) {
    const img = await svc.import({ name, path: ref });
    assert.is(await debugfsCat(env.runner, img.path, '/opq/new'), 'layer 2', name);
    assert.equal(img.config?.cmd, BUSYBOX_CONFIG.Cmd, name);
    assert.equal(img.config?.exposedPorts, ['53/udp', '8080/tcp'], name);
  }
  cacheSound();
});

it('bad local REFs are refused before anything is made', async () => {
  assert.is(await code(svc.import({ name: 'n1', path: 'oci:/no/such/layout' })), 'E_NOT_FOUND');
  assert.is(await code(svc.import({ name: 'n2', path: 'oci-archive:relative.tar' })), 'E_INVALID_ARGUMENT');
  assert.is(await code(svc.import({ name: 'n3', path: `oci:${layout}:nosuchtag` })), 'E_UNKNOWN_REF');
  for (const n of ['n1', 'n2', 'n3']) nothingLeft(n);
});

test.run();
