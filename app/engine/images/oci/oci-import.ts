// `banger image import NAME REF` for a transport REF: skopeo copies the image (one platform)
// into a per-import OCI layout whose blobs are the shared layer cache; every blob is verified;
// the layers are applied in order to the build's root directory; what a user cannot write
// (owners, devices, xattrs) is set in the finished ext4 by debugfs. The build pipeline around
// it (image-service.ts) customizes, makes the ext4 and registers the image with its config.
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BangerError, ErrorCodes } from '../../../base/errors.js';
import { which } from '../../../base/process.js';
import { formatImageRef, parseImageRef, parsePlatform } from '../../../contract/image-ref.js';
import type { ImageConfig } from '../../../contract/vm-extras.js';
import { formatBytes } from '../../../base/human.js';
import type { BuildJob } from '../job.js';
import type { DebCache } from '../debs.js';
import { skopeoCopy } from './skopeo.js';
import { readPulled, verifiedBlob, imageConfig, type Descriptor } from './layout.js';
import { LayerApplier } from './layers.js';
import { applyFixups } from './fixups.js';
import { watchCopy } from './copy-progress.js';

export interface OciSource {
  /** skopeo's spelling of the REF, local paths absolute. */
  src: string;
  platform: { os: string; arch: string; variant: string | null };
  tlsVerify: boolean;
}

/** Checked before a build starts: a bad REF or platform, or a missing local path, changes nothing. */
export function ociSource(raw: string, platform: string | undefined, tlsVerify: boolean | undefined): OciSource {
  const ref = parseImageRef(raw);
  if (!which('skopeo'))
    throw new BangerError(
      ErrorCodes.COMMAND_FAILED,
      'importing a container image needs skopeo (apt-get install skopeo)',
    );
  if (ref.transport !== 'docker') {
    if (!ref.location.startsWith('/'))
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `${ref.transport}: needs an absolute path, got "${ref.location}"`,
      );
    if (!existsSync(ref.location))
      throw new BangerError(ErrorCodes.NOT_FOUND, `cannot import "${raw}": ${ref.location} does not exist`);
  }
  return {
    src: formatImageRef(ref, (p) => resolve(p)),
    platform: parsePlatform(platform ?? 'linux/amd64'),
    tlsVerify: tlsVerify !== false,
  };
}

export interface OciFillResult {
  config: ImageConfig;
  afterMkfs: (img: string, job: BuildJob) => Promise<void>;
}

export async function ociFill(
  o: OciSource,
  cacheDir: string,
  debs: DebCache,
  root: string,
  work: string,
  job: BuildJob,
): Promise<OciFillResult> {
  const blobDir = join(cacheDir, 'oci', 'blobs');
  mkdirSync(join(blobDir, 'sha256'), { recursive: true, mode: 0o700 });
  const cachedBefore = new Set(readdirSync(join(blobDir, 'sha256')));
  const layout = join(work, 'layout');
  const tmpDir = join(work, 'tmp');
  mkdirSync(tmpDir);

  job.phase(`fetch ${o.src}`, 2);
  const stop = watchCopy(job, blobDir, layout, cachedBefore);
  try {
    await skopeoCopy(job, { src: o.src, layout, blobDir, ...o.platform, tlsVerify: o.tlsVerify, tmpDir });
  } finally {
    stop();
  }
  const pulled = await readPulled(layout, blobDir, job.signal);
  reportLayers(job, pulled.layers, cachedBefore);

  const applier = new LayerApplier(root);
  for (const [i, layer] of pulled.layers.entries()) {
    job.phase(
      `apply layer ${i + 1}/${pulled.layers.length} (${formatBytes(layer.size)})`,
      30 + (20 * i) / pulled.layers.length,
    );
    const file = await verifiedBlob(blobDir, layer, job.signal);
    await applyLayer(applier, file, work, job);
  }
  for (const w of applier.warnings) job.log(`warning: ${w}\n`);
  applier.finish();
  rmSync(layout, { recursive: true, force: true });
  const meta = applier.meta;
  return {
    config: imageConfig(pulled),
    afterMkfs: async (img, j) => {
      const values = join(work, 'xattrs');
      mkdirSync(values, { recursive: true });
      await applyFixups(j, img, meta, values);
    },
  };
}

/** gzip is streamed; zstd (no zlib support in Node 20) is decompressed by zstd(1) first. */
async function applyLayer(applier: LayerApplier, file: string, work: string, job: BuildJob): Promise<void> {
  const magic = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (magic.readUInt32BE(0) === 0x28b52ffd) {
    const plain = join(work, 'layer.tar');
    await job.run(['zstd', '-d', '-q', '-f', '-o', plain, file], { timeoutMs: 30 * 60_000 });
    try {
      await applier.apply(plain, false, job.signal);
    } finally {
      rmSync(plain, { force: true });
    }
    return;
  }
  await applier.apply(file, magic[0] === 0x1f && magic[1] === 0x8b, job.signal);
}

function reportLayers(job: BuildJob, layers: Descriptor[], cachedBefore: Set<string>): void {
  let fetched = 0;
  let cached = 0;
  for (const l of layers) {
    const hit = cachedBefore.has(l.digest.slice('sha256:'.length));
    if (hit) cached += l.size;
    else fetched += l.size;
    job.log(`layer ${l.digest.slice(0, 19)} ${formatBytes(l.size)} ${hit ? 'from the layer cache' : 'fetched'}\n`);
  }
  job.log(`${layers.length} layers: ${formatBytes(fetched)} fetched, ${formatBytes(cached)} from the layer cache\n`);
}
