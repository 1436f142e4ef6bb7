// `kernel build`: Debian's linux-source + `make tinyconfig` + banger's microVM fragment
// (assets/microvm.config) -> an all-built-in ELF vmlinux that suits Firecracker (ip=,
// virtio-mmio from the command line, no initrd). ~9 min on 2 cores the first time; the
// source and object trees stay in the cache dir, so a rebuild is incremental (~45 s).
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { which } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { assetPath } from './assets.js';
import type { DebCache } from './debs.js';
import type { BuildJob } from './job.js';
import { serial } from './serial.js';

export const KERNEL_BUILD_TOOLS = ['make', 'gcc', 'flex', 'bison', 'bc', 'perl', 'tar', 'xz'];
/** Options that must survive olddefconfig, or the kernel will not boot a banger VM. */
const MUST_HAVE = [
  'CONFIG_VIRTIO_MMIO=y',
  'CONFIG_VIRTIO_BLK=y',
  'CONFIG_VIRTIO_NET=y',
  'CONFIG_EXT4_FS=y',
  'CONFIG_IP_PNP=y',
  'CONFIG_SERIAL_8250_CONSOLE=y',
  'CONFIG_PVH=y',
];
const DEFAULT_OBJECTS = 1500;

export function missingBuildTools(): string[] {
  return KERNEL_BUILD_TOOLS.filter((t) => !which(t));
}

export interface BuiltKernel {
  vmlinux: string;
  version: string;
  source: string;
}

/** The vmlinux is copied into `work` (the caller's build dir) before the shared tree is let go. */
export async function buildKernelFromSource(
  cacheDir: string,
  debs: DebCache,
  job: BuildJob,
  work: string,
): Promise<BuiltKernel> {
  const missing = missingBuildTools();
  if (missing.length) {
    throw new BangerError(
      ErrorCodes.COMMAND_FAILED,
      `building a kernel needs ${missing.join(', ')} (apt-get install ${missing.join(' ')})`,
    );
  }
  // Every kernel build shares the source and object trees (O=) under the cache dir, and two
  // makes in one O= dir corrupt each other: a second build queues (cancellable) behind the first.
  const shared = join(cacheDir, 'kernel-build');
  return serial(shared, () => buildLocked(cacheDir, debs, job, work), {
    signal: job.signal,
    onWait: () => {
      job.phase('waiting for another kernel build', 1);
      job.log(`another kernel build is using ${shared}: this one starts when it ends\n`);
    },
  });
}

async function buildLocked(cacheDir: string, debs: DebCache, job: BuildJob, work: string): Promise<BuiltKernel> {
  job.phase('resolve source', 2);
  const dep = await job.run(['apt-cache', 'depends', 'linux-source'], { reject: false });
  const pkg = /Depends: (linux-source-[0-9.]+)/.exec(dep.stdout)?.[1] ?? 'linux-source-6.1';
  const srcBase = join(cacheDir, 'kernel-src');
  const tree = join(srcBase, pkg);
  if (!existsSync(join(tree, 'Makefile'))) {
    job.phase('download source', 3);
    const { [pkg]: deb } = await debs.fetch([pkg], job);
    job.phase('unpack source', 5);
    const tmp = join(srcBase, `.unpack-${job.id}`);
    try {
      await debs.extract(deb, tmp, job);
      const tarball = readdirSync(join(tmp, 'usr/src')).find((f) => /^linux-source-.*\.tar\.(xz|bz2|gz)$/.test(f));
      if (!tarball) throw new Error(`${deb} holds no linux-source tarball`);
      await job.run(['tar', '-xf', join(tmp, 'usr/src', tarball), '-C', tmp], { timeoutMs: 20 * 60_000 });
      const dir = readdirSync(tmp).find((f) => f.startsWith('linux-source-'))!;
      rmSync(tree, { recursive: true, force: true });
      renameSync(join(tmp, dir), tree);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const out = join(cacheDir, 'kernel-build', pkg);
  mkdirSync(out, { recursive: true });
  const make = (args: string[], onLine?: (c: string) => void) =>
    job.run(['make', '-C', tree, `O=${out}`, ...args], { timeoutMs: 90 * 60_000, onLine });

  job.phase('configure', 8);
  await make(['tinyconfig']);
  appendFileSync(join(out, '.config'), '\n' + readFileSync(assetPath('microvm.config'), 'utf8'));
  await make(['olddefconfig']);
  const config = readFileSync(join(out, '.config'), 'utf8');
  const lost = MUST_HAVE.filter((o) => !config.split('\n').includes(o));
  if (lost.length) throw new Error(`kernel config lost ${lost.join(', ')} after olddefconfig (unmet dependencies)`);

  job.phase('compile', 10);
  const countFile = join(out, '.banger-objects');
  const expected = Number(existsSync(countFile) ? readFileSync(countFile, 'utf8') : DEFAULT_OBJECTS) || DEFAULT_OBJECTS;
  let objects = 0;
  await make([`-j${Math.max(1, cpus().length)}`, 'vmlinux'], (c) => {
    // Kbuild prints one "  CC      path.o" (or AS/LD/AR...) line per object it makes.
    objects += (c.match(/^\s+(CC|AS|LD|AR|HOSTCC|GEN|CHK|UPD)\s/gm) ?? []).length;
    job.percent(10 + 85 * Math.min(1, objects / expected));
  });
  if (objects > expected / 2) writeFileSync(countFile, String(objects));
  const version = (await make(['-s', 'kernelrelease'])).stdout.trim();
  // A queued build rewrites out/vmlinux as soon as we return: keep our own copy.
  const vmlinux = join(work, 'vmlinux');
  copyFileSync(join(out, 'vmlinux'), vmlinux);
  return { vmlinux, version, source: `built:${pkg}` };
}
