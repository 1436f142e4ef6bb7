// Image registry and the build/import pipeline: fill a directory (busybox, debootstrap, or
// an imported tree/tarball/ext4), customize it for banger, mkfs.ext4 -d, checksum, register.
// Everything happens in a temp dir under buildsDir; the image is registered only on
// success, and a failed or cancelled build leaves nothing behind but its log file.
import { copyFileSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  IMAGE_SOURCES,
  type BuildProgress,
  type ImageBuildInput,
  type ImageImportInput,
  type ImageRecord,
} from '../../contract/api.js';
import type { Store } from '../store.js';
import { parseSize } from '../../contract/size.js';
import { UndoStack } from '../driver/undo.js';
import { BangerError, ErrorCodes, asNoSpace } from '../../base/errors.js';
import { failJob, type BuildJob, type JobDeps } from './job.js';
import { BuildRegistry } from './builds.js';
import { DebCache } from './debs.js';
import { addPackages, assembleBusybox } from './busybox-rootfs.js';
import { debootstrap, debootstrapImage, requireDebianPrivileges, removeTree } from './debian-rootfs.js';
import { customizeRootfs } from './customize.js';
import { extractExt4, isExt4, mkfsFromDir, sha256File } from './ext4.js';
import { ensureSshKey } from './ssh.js';
import { validateArtifactName, validatePackages } from '../../contract/artifact-names.js';
import { requireAbsolute } from './abs-path.js';
import { isTransportRef } from '../../contract/image-ref.js';
import type { ImageConfig } from '../../contract/vm-extras.js';
import { ociFill, ociSource } from './oci/oci-import.js';

const MiB = 1024 ** 2;
const DEFAULT_SIZE: Record<string, number> = { busybox: 256 * MiB, debian: 1024 * MiB };
export const MIN_IMAGE_BYTES = 16 * MiB;

export interface ImageServiceDeps extends JobDeps {
  store: Store;
}

/** What a fill may add: an OCI image's config, and fixups on the finished ext4 (owners, devices). */
interface FillResult {
  config?: ImageConfig;
  afterMkfs?: (img: string, job: BuildJob) => Promise<void>;
}
type Fill = (root: string, work: string, job: BuildJob) => Promise<void | FillResult>;

export class ImageService {
  private readonly builds: BuildRegistry;
  private readonly debs: DebCache;

  constructor(private readonly deps: ImageServiceDeps) {
    this.debs = new DebCache(deps.paths.cacheDir);
    this.builds = new BuildRegistry('image', deps, (name) => deps.store.getImage(name) !== null);
  }

  list(): ImageRecord[] {
    return this.deps.store.listImages();
  }

  get(name: string): ImageRecord {
    const img = this.deps.store.getImage(String(name ?? '').toLowerCase());
    if (!img) throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `no image named "${name}"`);
    return img;
  }

  listBuilds(): BuildProgress[] {
    return this.builds.list();
  }

  cancel(buildId: string): void {
    this.builds.cancel(buildId);
  }

  async build(input: ImageBuildInput, signal?: AbortSignal): Promise<ImageRecord> {
    const name = validateArtifactName('image', input?.name);
    const from = String(input?.from ?? '');
    if (!IMAGE_SOURCES.includes(from)) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `unknown image source "${from}": use one of ${IMAGE_SOURCES.join(', ')}`,
      );
    }
    const family = from.split(':')[0];
    const sizeBytes = validateImageSize(input.size ?? DEFAULT_SIZE[family]);
    const packages = validatePackages(input.packages);
    if (family === 'debian') await requireDebianPrivileges(this.deps.runner);
    const suite = from.split(':')[1];
    const fill: Fill =
      family === 'busybox'
        ? async (root, work, job) => {
            job.phase('fetch packages', 5);
            await this.debs.fetch(['busybox-static', 'dropbear-bin', 'libtomcrypt1', 'libtommath1', ...packages], job);
            job.phase('assemble rootfs', 25);
            await assembleBusybox(root, this.debs, work, job);
            if (packages.length) {
              job.phase('add packages', 40);
              await addPackages(root, this.debs, packages, job);
            }
          }
        : this.deps.runner.isRoot
          ? async (root, _work, job) => {
              job.phase('debootstrap', 5);
              await debootstrap(root, suite, packages, job);
            }
          : async (root, work, job) => {
              // Root debootstraps through the entry point and hands back an ext4 of the tree.
              job.phase('debootstrap', 5);
              const base = join(work, 'debootstrap.ext4');
              await debootstrapImage(base, suite, packages, job);
              job.phase('unpack', 45);
              await extractExt4(job, base, root);
              rmSync(base, { force: true });
            };
    return this.produce(name, from, sizeBytes, input.size !== undefined, fill, signal);
  }

  async import(input: ImageImportInput, signal?: AbortSignal): Promise<ImageRecord> {
    const name = validateArtifactName('image', input?.name);
    const raw = String(input?.path ?? '');
    if (isTransportRef(raw)) return this.importOci(name, raw, input, signal);
    const src = requireAbsolute('image source', raw);
    let st;
    try {
      st = statSync(src);
    } catch {
      throw new BangerError(ErrorCodes.NOT_FOUND, `cannot import "${src}": no such file or directory`);
    }
    const explicit = input.size !== undefined;
    let sizeBytes = explicit ? validateImageSize(input.size) : 0;
    let kind: 'dir' | 'ext4' | 'tar';
    if (st.isDirectory()) kind = 'dir';
    else if (st.isFile() && isExt4(src)) {
      kind = 'ext4';
      if (!explicit) sizeBytes = st.size;
    } else if (st.isFile()) kind = 'tar';
    else
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `cannot import "${src}": not a directory, ext4 image or tar archive`,
      );
    const fill: Fill = async (root, _work, job) => {
      job.phase(`copy ${kind}`, 10);
      if (kind === 'dir') await job.run(['cp', '-a', `${src}/.`, `${root}/`], { timeoutMs: 30 * 60_000 });
      else if (kind === 'ext4') await extractExt4(job, src, root);
      else {
        const r = await job.run(['tar', '-xf', src, '-C', root, '--numeric-owner'], {
          reject: false,
          timeoutMs: 30 * 60_000,
        });
        if (r.exitCode !== 0) {
          throw new BangerError(
            ErrorCodes.INVALID_ARGUMENT,
            `cannot import "${src}": not a directory, ext4 image or readable tar archive (${r.stderr.trim().split('\n').pop()})`,
          );
        }
      }
    };
    return this.produce(name, `import:${kind}:${src}`, sizeBytes, explicit, fill, signal);
  }

  /** An image from a registry, an OCI layout or an archive (oci/oci-import.ts). */
  private importOci(name: string, raw: string, input: ImageImportInput, signal?: AbortSignal): Promise<ImageRecord> {
    const src = ociSource(raw, input.platform, input.tlsVerify);
    const explicit = input.size !== undefined;
    const sizeBytes = explicit ? validateImageSize(input.size) : 0;
    const fill: Fill = (root, work, job) => ociFill(src, this.deps.paths.cacheDir, this.debs, root, work, job);
    return this.produce(name, src.src, sizeBytes, explicit, fill, signal);
  }

  /** Unregister (refused while a VM uses it), then delete the file. */
  async remove(name: string): Promise<void> {
    const img = this.get(name);
    this.deps.store.deleteImage(img.name);
    rmSync(img.path, { force: true });
  }

  private produce(
    name: string,
    source: string,
    sizeBytes: number,
    explicitSize: boolean,
    fill: Fill,
    signal?: AbortSignal,
    privileged = false,
  ): Promise<ImageRecord> {
    return this.builds.run(name, signal, (job) =>
      this.make(job, name, source, sizeBytes, explicitSize, fill, privileged),
    );
  }

  /** privileged: fill makes the tree with privileged commands, so it is removed the same way. */
  private async make(
    job: BuildJob,
    name: string,
    source: string,
    sizeBytes: number,
    explicitSize: boolean,
    fill: Fill,
    privileged: boolean,
  ): Promise<ImageRecord> {
    const { paths, store, runner } = this.deps;
    const work = join(paths.buildsDir, `${job.id}.tmp`);
    const undo = new UndoStack();
    try {
      mkdirSync(work, { recursive: true, mode: 0o700 });
      undo.push('remove build dir', () => removeTree(runner, work, privileged));
      const root = join(work, 'rootfs');
      mkdirSync(root, { mode: 0o755 });
      const filled = (await fill(root, work, job)) || {};

      job.phase('customize', 55);
      const key = await ensureSshKey(runner, paths);
      const init = await customizeRootfs(
        root,
        { publicKey: key.publicKey, hostname: name.replace(/[._]/g, '-'), debs: this.debs, work },
        job,
      );

      const used = treeBytes(root);
      const needed = Math.ceil((used * 1.25 + 32 * MiB) / MiB) * MiB;
      if (explicitSize && sizeBytes < needed) {
        throw new BangerError(
          ErrorCodes.INVALID_SIZE,
          `image size ${fmt(sizeBytes)} is too small for ${fmt(used)} of files: use at least ${fmt(needed)}`,
        );
      }
      if (!explicitSize) sizeBytes = Math.max(sizeBytes, needed);

      job.phase('mkfs', 70);
      const tmpImg = join(work, 'image.ext4');
      await mkfsFromDir(job, root, tmpImg, sizeBytes);
      if (filled.afterMkfs) await filled.afterMkfs(tmpImg, job);
      job.phase('checksum', 90);
      const sha256 = await sha256File(tmpImg, job.signal);

      job.phase('register', 97);
      mkdirSync(paths.imagesDir, { recursive: true, mode: 0o700 });
      const final = join(paths.imagesDir, `${name}.ext4`);
      moveFile(tmpImg, final);
      undo.push('remove image file', () => rmSync(final, { force: true }));
      job.check();
      const record = store.insertImage({
        name,
        source,
        path: final,
        sizeBytes: statSync(final).size,
        sha256,
        buildLog: job.logPath,
        init,
        // null rather than absent: the record returned is the one the store gives back.
        config: filled.config ?? null,
        createdAt: new Date().toISOString(),
      });
      undo.commit();
      // The image is registered: a leftover work dir is logged, not a failed build.
      await removeTree(runner, work, privileged).catch((err) =>
        this.deps.logger.warn('image build dir not removed', { dir: work, error: String(err) }),
      );
      job.finish('done');
      return record;
    } catch (err) {
      await undo.unwind();
      for (const f of undo.failures)
        this.deps.logger.warn('image build undo failed', { step: f.name, error: String(f.error) });
      throw failJob(job, asNoSpace(err, `building image "${name}"`), `image "${name}" from ${source}`);
    }
  }
}

export function validateImageSize(raw: unknown): number {
  const bytes = parseSize(raw);
  if (bytes < MIN_IMAGE_BYTES)
    throw new BangerError(ErrorCodes.INVALID_SIZE, `invalid image size "${String(raw)}": must be at least 16M`);
  return bytes;
}

/** Bytes a tree occupies (4 KiB blocks, plus an inode's worth per entry). */
function treeBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      total += Math.ceil(st.size / 4096) * 4096 + 256;
      if (st.isDirectory()) stack.push(p);
    }
  }
  return total;
}

function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to);
    rmSync(from, { force: true });
  }
}

function fmt(bytes: number): string {
  return `${Math.ceil(bytes / MiB)}M`;
}
