// Kernel registry: add a vmlinux you have, fetch Debian's cloud kernel (+ a generated
// initramfs; QEMU only), or build one from Debian's linux-source (Firecracker-ready).
// Files live in kernelsDir/<name>/; a kernel is registered only once its files are in place.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildProgress, KernelAddInput, KernelRecord } from '../../contract/api.js';
import type { Store } from '../store.js';
import { UndoStack } from '../driver/undo.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { failJob, type BuildJob, type JobDeps } from './job.js';
import { BuildRegistry } from './builds.js';
import { DebCache } from './debs.js';
import { elfArchProblem, extractVmlinux, isElf } from './vmlinux.js';
import { buildInitramfs } from './initramfs.js';
import { buildKernelFromSource } from './kernel-build.js';
import { validateArtifactName } from '../../contract/artifact-names.js';
import { requireAbsolute } from './abs-path.js';

export const CLOUD_KERNEL_META = 'linux-image-cloud-amd64';

export interface KernelServiceDeps extends JobDeps {
  store: Store;
}

interface Produced {
  vmlinux: string;
  initrd: string | null;
  source: string;
  version: string | null;
}

export class KernelService {
  private readonly builds: BuildRegistry;
  private readonly debs: DebCache;

  constructor(private readonly deps: KernelServiceDeps) {
    this.debs = new DebCache(deps.paths.cacheDir);
    this.builds = new BuildRegistry('kernel', deps, (name) => deps.store.getKernel(name) !== null);
  }

  list(): KernelRecord[] {
    return this.deps.store.listKernels();
  }

  get(name: string): KernelRecord {
    const k = this.deps.store.getKernel(String(name ?? '').toLowerCase());
    if (!k) throw new BangerError(ErrorCodes.UNKNOWN_KERNEL, `no kernel named "${name}"`);
    return k;
  }

  listBuilds(): BuildProgress[] {
    return this.builds.list();
  }

  cancel(buildId: string): void {
    this.builds.cancel(buildId);
  }

  /** Register a vmlinux (ELF) and optional initrd you already have; both are copied. */
  async add(input: KernelAddInput): Promise<KernelRecord> {
    const name = validateArtifactName('kernel', input?.name);
    const path = requireAbsolute('kernel file', String(input?.path ?? ''));
    if (!existsSync(path) || !statSync(path).isFile())
      throw new BangerError(ErrorCodes.NOT_FOUND, `kernel file "${path}" not found`);
    if (!isElf(path)) {
      throw new BangerError(
        ErrorCodes.INVALID_KERNEL,
        `"${path}" is not an ELF vmlinux (a compressed bzImage/vmlinuz must be extracted first; \`banger kernel fetch\` does that)`,
      );
    }
    const arch = elfArchProblem(path);
    if (arch) throw new BangerError(ErrorCodes.INVALID_KERNEL, `"${path}" ${arch}: Firecracker cannot boot it`);
    const initrd =
      input.initrd === undefined || input.initrd === null || input.initrd === '' ? null : String(input.initrd);
    if (initrd) requireAbsolute('initrd file', initrd);
    if (initrd && (!existsSync(initrd) || !statSync(initrd).isFile()))
      throw new BangerError(ErrorCodes.NOT_FOUND, `initrd file "${initrd}" not found`);
    return this.builds.hold(name, () =>
      this.install(name, { vmlinux: path, initrd, source: `file:${path}`, version: null }),
    );
  }

  /** Debian's cloud kernel through apt, its ELF pulled out of the bzImage, plus an initramfs. */
  async fetch(rawName: string, signal?: AbortSignal): Promise<KernelRecord> {
    const name = validateArtifactName('kernel', rawName);
    return this.produce(name, signal, async (job, work) => {
      job.phase('resolve package', 3);
      const dep = await job.run(['apt-cache', 'depends', CLOUD_KERNEL_META], { reject: false });
      let pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(dep.stdout)?.[1] ?? null;
      if (!pkg) {
        // No apt lists: fall back to whichever cloud kernel is already cached.
        const cached = existsSync(this.debs.dir)
          ? readdirSync(this.debs.dir).find(
              (f) => /^linux-image-.*-cloud-amd64_.*\.deb$/.test(f) && !f.startsWith(`${CLOUD_KERNEL_META}_`),
            )
          : undefined;
        if (!cached)
          throw new Error(`cannot resolve ${CLOUD_KERNEL_META} (apt-cache: ${dep.stderr.trim() || 'no Depends line'})`);
        pkg = cached.split('_')[0];
      }
      job.phase('download', 8);
      const debs = await this.debs.fetch([pkg, 'busybox-static'], job);
      job.phase('unpack', 40);
      const kx = join(work, 'kernel');
      await this.debs.extract(debs[pkg], kx, job);
      const bb = join(work, 'busybox');
      await this.debs.extract(debs['busybox-static'], bb, job);
      const vmlinuz = readdirSync(join(kx, 'boot')).find((f) => f.startsWith('vmlinuz-'));
      if (!vmlinuz) throw new Error(`${pkg} has no /boot/vmlinuz-*`);
      const kver = vmlinuz.slice('vmlinuz-'.length);
      job.phase('extract vmlinux', 55);
      const vmlinux = join(work, 'vmlinux');
      const found = await extractVmlinux(this.deps.runner, join(kx, 'boot', vmlinuz), vmlinux, work, job.signal);
      if (!found) throw new Error(`no ELF kernel found inside ${vmlinuz}`);
      job.log(`vmlinux: ${found.codec} payload at offset ${found.offset}\n`);
      job.phase('initramfs', 70);
      const initrd = join(work, 'initrd.img');
      const mods = await buildInitramfs(
        { busybox: join(bb, 'bin/busybox'), modulesDir: join(kx, 'lib/modules', kver), out: initrd, work },
        job,
      );
      job.log(`initramfs modules: ${mods.join(' ')}\n`);
      rmSync(kx, { recursive: true, force: true });
      return { vmlinux, initrd, source: `debian:${pkg}`, version: kver };
    });
  }

  /** tinyconfig + banger's fragment from Debian's linux-source: slow (minutes). */
  async build(rawName: string, signal?: AbortSignal): Promise<KernelRecord> {
    const name = validateArtifactName('kernel', rawName);
    return this.produce(name, signal, async (job, work) => {
      const k = await buildKernelFromSource(this.deps.paths.cacheDir, this.debs, job, work);
      return { vmlinux: k.vmlinux, initrd: null, source: k.source, version: k.version };
    });
  }

  /** Unregister (refused while a VM uses it), then delete its files. */
  async remove(name: string): Promise<void> {
    const k = this.get(name);
    this.deps.store.deleteKernel(k.name);
    rmSync(join(this.deps.paths.kernelsDir, k.name), { recursive: true, force: true });
  }

  private produce(
    name: string,
    signal: AbortSignal | undefined,
    make: (job: BuildJob, work: string) => Promise<Produced>,
  ): Promise<KernelRecord> {
    return this.builds.run(name, signal, async (job) => {
      const work = join(this.deps.paths.buildsDir, `${job.id}.tmp`);
      try {
        mkdirSync(work, { recursive: true, mode: 0o700 });
        const p = await make(job, work);
        job.phase('register', 95);
        const rec = await this.install(name, p);
        job.finish('done');
        return rec;
      } catch (err) {
        throw failJob(job, err, `kernel "${name}"`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }

  /** Copy files into kernelsDir/<name>/ (via a temp dir) and register; undone on failure. */
  private async install(name: string, p: Produced): Promise<KernelRecord> {
    const dir = join(this.deps.paths.kernelsDir, name);
    const tmp = join(this.deps.paths.kernelsDir, `.${name}.tmp`);
    const undo = new UndoStack();
    try {
      mkdirSync(this.deps.paths.kernelsDir, { recursive: true, mode: 0o700 });
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp);
      undo.push('remove temp kernel dir', () => rmSync(tmp, { recursive: true, force: true }));
      copyFileSync(p.vmlinux, join(tmp, 'vmlinux'));
      if (p.initrd) copyFileSync(p.initrd, join(tmp, 'initrd.img'));
      rmSync(dir, { recursive: true, force: true }); // an unregistered leftover of the same name
      renameSync(tmp, dir);
      undo.push('remove kernel dir', () => rmSync(dir, { recursive: true, force: true }));
      const rec = this.deps.store.insertKernel({
        name,
        path: join(dir, 'vmlinux'),
        initrdPath: p.initrd ? join(dir, 'initrd.img') : null,
        source: p.source,
        version: p.version,
        createdAt: new Date().toISOString(),
      });
      undo.commit();
      return rec;
    } catch (err) {
      await undo.unwind();
      throw err;
    }
  }
}
