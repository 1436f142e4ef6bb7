// `banger image import NAME docker://...` against a real docker-registry on loopback in a
// network namespace made here, filled by `skopeo copy` from layouts built by hand
// (fixtures.ts): the filesystem (whiteouts, owners, modes, links, devices, xattrs), the config
// recorded, the layer cache (blob GETs in the registry's log), and each failure's code with
// nothing left behind: a tampered blob, an unknown tag or platform, a registry that is down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from '../../../../app/engine/images/image-service.js';
import { which } from '../../../../app/base/process.js';
import { resolvePaths, ensureBaseDirs } from '../../../../app/base/paths.js';
import { testCacheDir } from '../../../helpers/cache.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../../../helpers/skip.js';
import { Netns } from '../../../e2e/harness.js';
import { makeEnv, debugfsCat, debugfsStat, type Env } from '../helpers.js';
import {
  addImage,
  addIndex,
  tagLayout,
  busyboxLayers,
  noInitLayers,
  BUSYBOX_CONFIG,
  type Descriptor,
} from './fixtures.js';
import { startRegistry, registryBlob, type Registry } from './registry.js';
import { code, inNetns } from './helpers.js';

const reason = firstReason(
  NEEDS_ROOT,
  missingReason(['skopeo', 'docker-registry', 'debugfs'].filter((b) => !which(b))),
);
const it = runIf(test, reason);

let env: Env;
let svc: ImageService;
let ns: Netns;
let reg: Registry;
let dir: string;
let busyboxManifest: Descriptor;
const images: Record<string, string> = {};

function assertNothingLeft(name: string): void {
  assert.is(env.store.getImage(name), null);
  assert.not.ok(existsSync(join(env.paths.imagesDir, `${name}.ext4`)));
  assert.equal(
    readdirSync(env.paths.buildsDir).filter((f) => !f.endsWith('.log')),
    [],
  );
}

// uvu drops an error thrown by a hook without a word: say it, then fail every test.
test.before(() => (reason ? undefined : setup().catch((e) => (console.error('setup failed:', e), Promise.reject(e)))));

async function setup(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'banger-oci-'));
  env = makeEnv();
  // A layer cache of this run's own (the debs come from the shared test cache).
  const cache = join(dir, 'cache');
  mkdirSync(cache);
  symlinkSync(join(testCacheDir(), 'debs'), join(cache, 'debs'));
  env.paths = resolvePaths({ ...envOf(env), BANGER_CACHE_DIR: cache });
  ensureBaseDirs(env.paths);
  ns = await Netns.create(`banger-oci-${process.pid}`);
  reg = await startRegistry(ns.name, dir, 5000);
  const runtime = join(dir, 'xdg');
  mkdirSync(join(runtime, 'containers'), { recursive: true });
  svc = new ImageService({
    ...env.deps,
    paths: env.paths,
    runner: inNetns(env.runner, ns.name, { XDG_RUNTIME_DIR: runtime }),
  });

  const layout = join(dir, 'layout');
  busyboxManifest = await addImage(layout, { layers: busyboxLayers(), config: BUSYBOX_CONFIG });
  const noinit = await addImage(layout, { layers: noInitLayers(), config: { Cmd: ['/app/run'] } });
  const amd = await addImage(layout, {
    layers: [...busyboxLayers().slice(0, 1), [{ name: 'platform', data: 'amd64' }]],
  });
  const arm = await addImage(layout, {
    layers: [...busyboxLayers().slice(0, 1), [{ name: 'platform', data: 'arm64' }]],
    arch: 'arm64',
  });
  const tampered = await addImage(layout, {
    layers: [...busyboxLayers().slice(0, 1), [{ name: 'tampered', data: 'original bytes' }]],
  });
  tagLayout(layout, { busybox: busyboxManifest, noinit, multi: addIndex(layout, [amd, arm]), tampered });
  for (const [tag, repo] of [
    ['busybox', 'busybox'],
    ['noinit', 'noinit'],
    ['multi', 'multi'],
    ['tampered', 'tampered'],
  ]) {
    const r = await ns.run([
      'skopeo',
      'copy',
      '--quiet',
      '--all',
      '--dest-tls-verify=false',
      `oci:${layout}:${tag}`,
      `docker://${reg.host}/${repo}:latest`,
    ]);
    if (r.code !== 0) throw new Error(`skopeo copy ${tag}: ${r.stderr}`);
  }
  // Flip a byte of the tampered image's last layer in the registry's storage (same length).
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs/sha256', tampered.digest.slice(7)), 'utf8'));
  images.tamperedLayer = manifest.layers[1].digest;
  const f = registryBlob(reg.storage, images.tamperedLayer);
  const b = readFileSync(f);
  b[b.length - 5] ^= 0xff;
  writeFileSync(f, b);
}

test.after(async () => {
  if (reason) return;
  try {
    await reg?.stop();
    await ns?.destroy();
    env?.cleanup();
  } catch (e) {
    console.error('AFTER', e);
  }
  rmSync(dir, { recursive: true, force: true });
});

function envOf(e: Env): Record<string, string> {
  return {
    HOME: e.dir,
    BANGER_STATE_DIR: join(e.dir, 'state'),
    BANGER_CONFIG_DIR: join(e.dir, 'config'),
    BANGER_RUNTIME_DIR: join(e.dir, 'run'),
  };
}

const ref = (repo: string, tag = 'latest') => `docker://${reg.host}/${repo}:${tag}`;

it('imports busybox: layers in order with whiteouts, owners, modes, links, devices, xattrs; config kept', async () => {
  const img = await svc.import({ name: 'bb', path: ref('busybox'), tlsVerify: false });
  images.bb = img.path;
  const p = img.path;
  const ls = async (path: string) => debugfsStat(env.runner, p, path);
  assert.match(await ls('/etc/gone'), /File not found/);
  assert.match(await ls('/opq/old'), /File not found/);
  assert.is(await debugfsCat(env.runner, p, '/opq/new'), 'layer 2');
  assert.is(await debugfsCat(env.runner, p, '/etc/added'), 'layer 2');
  assert.match(await ls('/home/alice'), /User:\s+1000\s+Group:\s+1000/);
  assert.match(await ls('/home/alice'), /Mode:\s+0750/);
  assert.match(await ls('/home/alice/notes'), /User:\s+1000\s+Group:\s+1000\s/);
  assert.match(await ls('/var/www/index.html'), /User:\s+33\s+Group:\s+33\s/);
  assert.match(await ls('/etc/shadow'), /Group:\s+42\s.*\n?.*|Mode:\s+0640/);
  assert.match(await ls('/etc/shadow'), /Mode:\s+0640/);
  assert.match(await ls('/srv/ro'), /Mode:\s+0555/);
  assert.match(await ls('/bin/suid'), /Mode:\s+04755/);
  assert.match(await ls('/dev/null'), /Type: character special/);
  assert.match(await ls('/dev/null'), /Device major\/minor number: 01:03/);
  assert.match(await ls('/dev/null'), /Mode:\s+0666/);
  assert.match(await ls('/dev/sda'), /Type: block special[\s\S]*Device major\/minor number: 08:00/);
  assert.match(await ls('/dev/sda'), /Group:\s+6\s/);
  assert.match(await ls('/run/pipe'), /Type: FIFO/);
  assert.match(await ls('/bin/sh'), /Type: symlink[\s\S]*Fast link dest: "busybox"/);
  assert.match(await ls('/bin/bb-hard'), /Links: 2/);
  assert.match((await env.runner.run(['debugfs', '-R', 'ea_get /xattr-file user.banger', p])).stdout, /hello/);
  // root's files stay root's, banger's key is in place
  assert.match(await ls('/root/.ssh/authorized_keys'), /User:\s+0\s+Group:\s+0\s/);
  const rec = env.store.getImage('bb')!;
  assert.equal(rec.config, {
    env: BUSYBOX_CONFIG.Env,
    entrypoint: BUSYBOX_CONFIG.Entrypoint,
    cmd: BUSYBOX_CONFIG.Cmd,
    workingDir: '/srv',
    user: '1000:1000',
    exposedPorts: ['53/udp', '8080/tcp'],
    digest: busyboxManifest.digest,
    platform: 'linux/amd64',
  });
  assert.is(rec.init, 'busybox');
  assert.is(rec.source, ref('busybox'));
});

it('a second import of the same image fetches no layer again (the layer cache by digest)', async () => {
  const layers: string[] = JSON.parse(
    readFileSync(join(dir, 'layout/blobs/sha256', busyboxManifest.digest.slice(7)), 'utf8'),
  ).layers.map((l: { digest: string }) => l.digest);
  const first = reg.blobGets('busybox');
  for (const l of layers) assert.ok(first.includes(l), `the first import fetched layer ${l}`);
  await svc.import({ name: 'bb2', path: ref('busybox'), tlsVerify: false });
  const again = reg.blobGets('busybox').slice(first.length);
  assert.equal(
    again.filter((d) => layers.includes(d)),
    [],
    `fetched again: ${again.join(' ')}`,
  );
});

it('an image without init or sshd gets busybox and dropbear', async () => {
  const img = await svc.import({ name: 'noinit', path: ref('noinit'), tlsVerify: false });
  assert.is(await debugfsCat(env.runner, img.path, '/app/hello.txt'), 'no init here\n');
  assert.match(await debugfsStat(env.runner, img.path, '/bin/busybox'), /Type: regular/);
  assert.match(await debugfsStat(env.runner, img.path, '/sbin/init'), /Type: symlink/);
  assert.match(await debugfsStat(env.runner, img.path, '/usr/sbin/dropbear'), /Type: regular/);
  assert.equal(env.store.getImage('noinit')!.config!.cmd, ['/app/run']);
});

it('a two-platform index: linux/amd64 by default, --platform picks another, an absent one is E_UNKNOWN_REF', async () => {
  const amd = await svc.import({ name: 'multi-amd', path: ref('multi'), tlsVerify: false });
  assert.is(await debugfsCat(env.runner, amd.path, '/platform'), 'amd64');
  const arm = await svc.import({ name: 'multi-arm', path: ref('multi'), tlsVerify: false, platform: 'linux/arm64' });
  assert.is(await debugfsCat(env.runner, arm.path, '/platform'), 'arm64');
  assert.is(env.store.getImage('multi-arm')!.config!.platform, 'linux/arm64');
  assert.is(
    await code(svc.import({ name: 'multi-s390', path: ref('multi'), tlsVerify: false, platform: 'linux/s390x' })),
    'E_UNKNOWN_REF',
  );
  assertNothingLeft('multi-s390');
});

it('a tampered blob is refused (E_DIGEST_MISMATCH): no image, no cache entry', async () => {
  assert.is(await code(svc.import({ name: 'bad', path: ref('tampered'), tlsVerify: false })), 'E_DIGEST_MISMATCH');
  assertNothingLeft('bad');
  assert.not.ok(existsSync(join(env.paths.cacheDir, 'oci/blobs/sha256', images.tamperedLayer.slice(7))));
});

it('a cache entry corrupted on disk is refused and removed', async () => {
  const cached = join(env.paths.cacheDir, 'oci/blobs/sha256');
  const layer = JSON.parse(readFileSync(join(cached, busyboxManifest.digest.slice(7)), 'utf8')).layers[1].digest.slice(
    7,
  );
  writeFileSync(join(cached, layer), 'not the layer');
  assert.is(await code(svc.import({ name: 'bb3', path: ref('busybox'), tlsVerify: false })), 'E_DIGEST_MISMATCH');
  assertNothingLeft('bb3');
  assert.not.ok(existsSync(join(cached, layer)));
});

it('an unknown tag, an unknown repository, a registry that is down, plain HTTP without --tls-verify=false: clear codes', async () => {
  assert.is(await code(svc.import({ name: 'x1', path: ref('busybox', 'nope'), tlsVerify: false })), 'E_UNKNOWN_REF');
  assert.is(await code(svc.import({ name: 'x2', path: ref('nosuchrepo'), tlsVerify: false })), 'E_UNKNOWN_REF');
  assert.is(
    await code(svc.import({ name: 'x3', path: 'docker://127.0.0.1:1/busybox:latest', tlsVerify: false })),
    'E_REGISTRY_UNREACHABLE',
  );
  assert.is(await code(svc.import({ name: 'x4', path: ref('busybox') })), 'E_REGISTRY_UNREACHABLE');
  for (const n of ['x1', 'x2', 'x3', 'x4']) assertNothingLeft(n);
  assert.is(await code(svc.import({ name: 'x5', path: 'docker://nope' })), 'E_INVALID_ARGUMENT');
  assert.is(
    await code(svc.import({ name: 'x6', path: ref('busybox'), platform: 'windows/amd64' })),
    'E_INVALID_ARGUMENT',
  );
});

test.run();
