// The Debian image for the real-guest tests, built once and kept in the test cache. A build is
// `image build --from debian:bookworm` as a created user: root debootstraps through the entry
// point (the path a normal user takes, with network to Debian's mirror) and the user's engine
// unpacks and customizes it. The cache keeps that ext4, keyed by what debootstrap makes it
// from (suite, mirror, packages); a test user then imports it, which customizes it again with
// their key and the current guest files, so banger's own changes need no rebuild.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { BASE_PACKAGES, DEBIAN_MIRROR } from '../../app/engine/images/debian-rootfs.js';
import type { ImageRecord } from '../../app/contract/api.js';
import { testCacheDir } from '../helpers/cache.js';
import { bangerOutsideNs } from '../priv/user-guest.js';
import type { Result, TestUser } from '../priv/user-fixture.js';

export const DEBIAN_SOURCE = 'debian:bookworm';
/** Bump when what is cached changes shape. */
const FORMAT = 1;

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export function debianKey(): string {
  const what = { FORMAT, source: DEBIAN_SOURCE, mirror: DEBIAN_MIRROR, packages: [...BASE_PACKAGES].sort() };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

export function debianCachePath(): string {
  return join(testCacheDir(), 'images', `debian-bookworm-${debianKey()}.ext4`);
}

export function cachedDebian(): string | null {
  const p = debianCachePath();
  return existsSync(p) && statSync(p).size > 0 ? p : null;
}

/**
 * Build the image as u (their network set to none for the build: the engine runs in the root
 * namespace, where root's debootstrap reaches the mirror) and keep its ext4 in the cache.
 * Returns the image's name in u's store and how long the build took.
 */
export async function buildDebianAs(u: TestUser, name: string): Promise<{ ms: number; record: ImageRecord }> {
  u.updateConfig({ network: 'none' });
  const t0 = Date.now();
  try {
    ok(await bangerOutsideNs(u, ['image', 'build', name, '--from', DEBIAN_SOURCE], 30 * 60_000), 'debian build');
  } finally {
    await bangerOutsideNs(u, ['engine', 'stop'], 60_000);
    u.updateConfig({ network: undefined });
  }
  const ms = Date.now() - t0;
  const list = ok(await u.banger(['image', 'ls', '--json']), 'image ls').stdout;
  const record = (JSON.parse(list) as ImageRecord[]).find((i) => i.name === name)!;
  assert.is(record.source, DEBIAN_SOURCE);
  assert.is(record.init, 'systemd');
  keep(record.path);
  return { ms, record };
}

/** A 1 GiB image is mostly holes: copied as such. */
function sparseCopy(from: string, to: string): void {
  execFileSync('cp', ['--sparse=always', '--', from, to]);
}

/** Into the cache under a temp name, then renamed: a killed copy never looks like an image. */
function keep(image: string): void {
  const dst = debianCachePath();
  mkdirSync(join(testCacheDir(), 'images'), { recursive: true, mode: 0o700 });
  const tmp = `${dst}.${process.pid}.tmp`;
  try {
    sparseCopy(image, tmp);
    renameSync(tmp, dst);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The cached image as u's image `name` (imported from a copy u can read). Returns the ms it took. */
export async function importDebianAs(u: TestUser, name: string, cached: string): Promise<number> {
  const copy = join(u.scratch, 'debian.ext4');
  sparseCopy(cached, copy);
  chmodSync(copy, 0o644);
  const t0 = Date.now();
  try {
    ok(await u.banger(['image', 'import', name, copy], { timeoutMs: 10 * 60_000 }), 'image import (debian)');
  } finally {
    rmSync(copy, { force: true });
  }
  return Date.now() - t0;
}
