// A small initramfs for kernels whose virtio drivers are modules (Debian's cloud kernel):
// busybox-static, the virtio modules (decompressed), and assets/initramfs-init.sh as /init.
// Packed with cpio newc (owners 0:0) and gzip.
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  rmSync,
  lstatSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { assetPath } from './assets.js';
import type { BuildJob } from './job.js';

/** Load order matters: dependencies first. Missing ones (built in on some kernels) are skipped. */
export const INITRAMFS_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_mmio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'virtio_blk',
  'failover',
  'net_failover',
  'virtio_net',
  'virtio_console',
  'virtio-rng',
  'vsock',
  'vmw_vsock_virtio_transport_common',
  'vmw_vsock_virtio_transport',
  'evdev',
  'button',
  // Shared folders (vm create --mount): virtio-fs, served by QEMU's virtiofsd.
  'fuse',
  'virtiofs',
];

export interface InitramfsInput {
  busybox: string;
  /** lib/modules/<kver> of the extracted kernel package. */
  modulesDir: string;
  out: string;
  work: string;
}

export async function buildInitramfs(i: InitramfsInput, job: BuildJob): Promise<string[]> {
  const root = join(i.work, 'initramfs');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'dev', 'proc', 'sys', 'lib/modules', 'newroot', 'etc'])
    mkdirSync(join(root, d), { recursive: true });
  copyFileSync(i.busybox, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const { stdout } = await job.run([join(root, 'bin/busybox'), '--list']);
  for (const a of stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox')) {
    symlinkSync('busybox', join(root, 'bin', a));
  }
  const found = indexModules(join(i.modulesDir, 'kernel'));
  const loaded: string[] = [];
  for (const m of INITRAMFS_MODULES) {
    const src = found.get(m);
    if (!src) {
      job.log(`initramfs: module ${m} not in this kernel (built in or absent)\n`);
      continue;
    }
    const dest = join(root, 'lib/modules', `${m}.ko`);
    if (src.endsWith('.ko')) copyFileSync(src, dest);
    else if (src.endsWith('.ko.xz')) {
      copyFileSync(src, `${dest}.xz`);
      await job.run(['xz', '-d', '-f', `${dest}.xz`]);
    } else if (src.endsWith('.ko.zst')) {
      await job.run(['zstd', '-d', '-f', '-q', src, '-o', dest]);
    } else if (src.endsWith('.ko.gz')) {
      copyFileSync(src, `${dest}.gz`);
      await job.run(['gzip', '-d', '-f', `${dest}.gz`]);
    }
    loaded.push(m);
  }
  writeFileSync(join(root, 'lib/modules/order'), loaded.join('\n') + '\n');
  copyFileSync(assetPath('initramfs-init.sh'), join(root, 'init'));
  chmodSync(join(root, 'init'), 0o755);
  const list = ['.', ...walk(root).map((p) => relative(root, p))].join('\n') + '\n';
  const cpio = `${i.out}.cpio`;
  rmSync(cpio, { force: true });
  await job.run(['cpio', '-o', '-H', 'newc', '-R', '0:0', '--quiet', '-O', cpio], { cwd: root, input: list });
  rmSync(`${cpio}.gz`, { force: true });
  await job.run(['gzip', '-9', '-n', '-f', cpio]);
  if (`${cpio}.gz` !== i.out) {
    copyFileSync(`${cpio}.gz`, i.out);
    rmSync(`${cpio}.gz`, { force: true });
  }
  rmSync(root, { recursive: true, force: true });
  return loaded;
}

/** module name -> file, for every .ko(.xz/.zst/.gz) under dir. */
function indexModules(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of walk(dir)) {
    const m = /([^/]+)\.ko(\.(xz|zst|gz))?$/.exec(f);
    if (m && !out.has(m[1])) out.set(m[1], f);
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    out.push(p);
    if (lstatSync(p).isDirectory()) out.push(...walk(p));
  }
  return out;
}
