// Images, kernels and builds for the fake engine: records in Maps, a build that steps through
// phases on timers with progress and log events, names checked by the engine's own rule.
import type {
  BuildProgress,
  EngineEvent,
  ImageBuildInput,
  ImageImportInput,
  ImageRecord,
  KernelAddInput,
  KernelRecord,
} from '../../app/contract/api.js';
import { validateArtifactName } from '../../app/contract/artifact-names.js';
import { BangerError, ErrorCodes } from '../../app/base/errors.js';

const PHASES = ['fetch', 'rootfs', 'packages', 'mkfs', 'done'];

export class FakeArtifacts {
  readonly images = new Map<string, ImageRecord>();
  readonly kernels = new Map<string, KernelRecord>();
  readonly builds = new Map<string, BuildProgress>();
  private seq = 0;

  constructor(
    private readonly emit: (e: EngineEvent) => void,
    private readonly wait: (ms: number) => Promise<void>,
    private readonly buildStepMs: number,
  ) {
    const now = new Date().toISOString();
    this.images.set('busybox', {
      name: 'busybox',
      source: 'busybox',
      path: '/var/lib/banger/images/busybox.ext4',
      sizeBytes: 64 << 20,
      sha256: 'ab'.repeat(32),
      buildLog: null,
      createdAt: now,
    });
    this.kernels.set('default', {
      name: 'default',
      path: '/var/lib/banger/kernels/vmlinux',
      initrdPath: null,
      source: 'bundled',
      version: '6.1.0',
      createdAt: now,
    });
  }

  async buildImage(input: ImageBuildInput): Promise<ImageRecord> {
    const name = validateArtifactName('image', input.name);
    if (this.images.has(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `an image named ${name} already exists`);
    if (!['busybox', 'debian:bookworm'].includes(input.from))
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `unknown source ${input.from}`);
    const id = `build-${++this.seq}`;
    const b: BuildProgress = {
      id,
      kind: 'image',
      name,
      phase: 'queued',
      percent: 0,
      state: 'running',
      error: null,
      logPath: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
    };
    this.builds.set(id, b);
    this.emit({ type: 'build', build: b });
    for (let i = 0; i < PHASES.length; i++) {
      await this.wait(this.buildStepMs);
      const done = i === PHASES.length - 1;
      const percent = Math.round(((i + 1) / PHASES.length) * 100);
      const next: BuildProgress = {
        ...b,
        phase: PHASES[i]!,
        percent,
        state: done ? 'done' : 'running',
        endedAt: done ? new Date().toISOString() : null,
      };
      this.builds.set(id, next);
      const chunk = `[${PHASES[i]}] step ${i + 1}/${PHASES.length} for ${name}\n`;
      this.emit({ type: 'build-log', buildId: id, chunk });
      this.emit({ type: 'build', build: next });
    }
    return this.addImage({
      name,
      source: input.from,
      path: `/var/lib/banger/images/${name}.ext4`,
      sizeBytes: 256 << 20,
      sha256: 'cd'.repeat(32),
      buildLog: null,
      createdAt: new Date().toISOString(),
    });
  }

  async importImage(input: ImageImportInput): Promise<ImageRecord> {
    const name = validateArtifactName('image', input.name);
    if (this.images.has(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `an image named ${name} already exists`);
    const now = new Date().toISOString();
    return this.addImage({
      name,
      source: input.path,
      path: input.path,
      sizeBytes: 1,
      sha256: 'x',
      buildLog: null,
      createdAt: now,
    });
  }

  private addImage(img: ImageRecord): ImageRecord {
    this.images.set(img.name, img);
    this.emit({ type: 'image', image: img });
    return img;
  }

  async removeImage(name: string): Promise<void> {
    if (!this.images.delete(name)) throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `no image named ${name}`);
    this.emit({ type: 'image-removed', name });
  }

  async cancelBuild(id: string): Promise<void> {
    if (!this.builds.has(id)) throw new BangerError(ErrorCodes.NOT_FOUND, `no build ${id}`);
  }

  async addKernel(input: KernelAddInput): Promise<KernelRecord> {
    const k: KernelRecord = {
      name: validateArtifactName('kernel', input.name),
      path: input.path,
      initrdPath: input.initrd ?? null,
      source: 'file',
      version: null,
      createdAt: new Date().toISOString(),
    };
    this.kernels.set(k.name, k);
    this.emit({ type: 'kernel', kernel: k });
    return k;
  }

  async removeKernel(name: string): Promise<void> {
    if (!this.kernels.delete(name)) throw new BangerError(ErrorCodes.UNKNOWN_KERNEL, `no kernel named ${name}`);
    this.emit({ type: 'kernel-removed', name });
  }
}
