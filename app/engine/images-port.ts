// Adapts the image and kernel services to the engine's ImagesPort, and turns their results
// into engine events (a new image, a removed kernel) for the front ends.
import type {
  EngineEvent,
  ImageBuildInput,
  ImageImportInput,
  ImageRecord,
  KernelAddInput,
  KernelRecord,
  BuildProgress,
} from '../contract/api.js';
import type { ImagesPort } from './ports.js';
import type { ProcessRunner } from '../base/process.js';
import type { Store } from './store.js';
import { ImageService } from './images/image-service.js';
import { KernelService } from './images/kernel-service.js';
import { createVmDisk } from './images/vm-disk.js';
import { ensureSshKey } from './images/ssh.js';
import type { Paths } from '../base/paths.js';
import type { Logger } from '../base/log.js';

export function createImagesPort(d: {
  runner: ProcessRunner;
  store: Store;
  paths: Paths;
  logger: Logger;
  emit: (e: EngineEvent) => void;
}): ImagesPort {
  const jobDeps = {
    runner: d.runner,
    paths: d.paths,
    logger: d.logger,
    store: d.store,
    history: d.store,
    emit: (build: BuildProgress) => d.emit({ type: 'build', build }),
    emitLog: (buildId: string, chunk: string) => d.emit({ type: 'build-log', buildId, chunk }),
  };
  const images = new ImageService(jobDeps);
  const kernels = new KernelService(jobDeps);
  const image = async (p: Promise<ImageRecord>) => {
    const img = await p;
    d.emit({ type: 'image', image: img });
    return img;
  };
  const kernel = async (p: Promise<KernelRecord>) => {
    const k = await p;
    d.emit({ type: 'kernel', kernel: k });
    return k;
  };
  return {
    build: (input: ImageBuildInput) => image(images.build(input)),
    import: (input: ImageImportInput) => image(images.import(input)),
    async remove(name) {
      await images.remove(name);
      d.emit({ type: 'image-removed', name });
    },
    // The history from the store (other engines' builds too), with this engine's live records.
    builds: () => {
      const live = new Map([...images.listBuilds(), ...kernels.listBuilds()].map((b) => [b.id, b]));
      const out = d.store.listBuilds().map((b) => live.get(b.id) ?? b);
      const listed = new Set(out.map((b) => b.id));
      return [...out, ...[...live.values()].filter((b) => !listed.has(b.id))];
    },
    cancel(id) {
      if (id.startsWith('kernel-')) kernels.cancel(id);
      else images.cancel(id);
    },
    addKernel: (input: KernelAddInput) => kernel(kernels.add(input)),
    fetchKernel: (name) => kernel(kernels.fetch(name)),
    buildKernel: (name) => kernel(kernels.build(name)),
    async removeKernel(name) {
      await kernels.remove(name);
      d.emit({ type: 'kernel-removed', name });
    },
    createVmDisk: (imagePath, dest, size) => createVmDisk(d.runner, imagePath, dest, size),
    async sshKey() {
      const k = await ensureSshKey(d.runner, d.paths);
      return { privateKey: k.keyPath, publicKey: k.publicKey };
    },
  };
}
