// ext4 images without mounting: mkfs.ext4 -d builds one from a directory, debugfs reads
// one back (without rdump's symlink following), dumpe2fs reports geometry. No loop devices, no root needed for these.
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { which, type ProcessRunner } from '../../base/process.js';
import type { BuildJob } from './job.js';
import { extractExt4Safely } from './ext4-extract.js';

export const EXT4_LABEL = 'bangerroot';

/**
 * Not root: the tree is the user's, and mkfs -d copies owners, so the guest would find /root
 * and its authorized_keys owned by a stranger uid (sshd/dropbear refuse them). Inside a user
 * namespace mapping the user to root, mkfs sees those files as root's.
 */
function asTreeRoot(argv: string[]): string[] {
  const root = typeof process.getuid !== 'function' || process.getuid() === 0;
  return root || !which('unshare') ? argv : ['unshare', '--map-root-user', '--', ...argv];
}

export async function mkfsFromDir(job: BuildJob, dir: string, img: string, sizeBytes: number): Promise<void> {
  // Size in KiB: mkfs.ext4 takes a plain number as blocks, a k suffix as KiB.
  await job.run(
    asTreeRoot([
      'mkfs.ext4',
      '-q',
      '-F',
      '-L',
      EXT4_LABEL,
      '-E',
      'root_owner=0:0',
      '-d',
      dir,
      img,
      `${Math.floor(sizeBytes / 1024)}k`,
    ]),
    { timeoutMs: 20 * 60_000 },
  );
}

/** The filesystem of an (untrusted) ext4 image into dir, never following a symlink (ext4-extract.ts). */
export async function extractExt4(job: BuildJob, img: string, dir: string): Promise<void> {
  await extractExt4Safely(
    async (script) => {
      const r = await job.run(['debugfs', '-f', '-', img], { input: script, timeoutMs: 20 * 60_000, quiet: true });
      if (/Bad magic|Can't read|Bad superblock/i.test(r.stderr))
        throw new Error(`debugfs could not read ${img}: ${r.stderr.trim().split('\n').pop()}`);
      return r.stdout;
    },
    img,
    dir,
  );
}

/** Is this file an ext2/3/4 filesystem? (superblock magic 0xEF53 at byte 1080) */
export function isExt4(file: string): boolean {
  const buf = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, buf, 0, 2, 1080) !== 2) return false;
  } finally {
    closeSync(fd);
  }
  return buf.readUInt16LE(0) === 0xef53;
}

export interface Ext4Geometry {
  blockCount: number;
  blockSize: number;
  bytes: number;
  label: string;
}

export async function ext4Geometry(runner: ProcessRunner, img: string): Promise<Ext4Geometry> {
  const { stdout } = await runner.run(['dumpe2fs', '-h', img]);
  const field = (k: string): string => (new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(stdout)?.[1] ?? '').trim();
  const blockCount = Number(field('Block count'));
  const blockSize = Number(field('Block size'));
  return { blockCount, blockSize, bytes: blockCount * blockSize, label: field('Filesystem volume name') };
}

/**
 * sha256 of a file through one reused 1 MiB buffer: a stream allocates a buffer per chunk, and
 * an image's worth of garbage buffers (tens of MiB) piled up in the engine before a GC.
 */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fh = await open(file, 'r');
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return h.digest('hex');
      h.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}
