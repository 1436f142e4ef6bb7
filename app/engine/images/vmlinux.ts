// extract-vmlinux in TypeScript: a bzImage carries the kernel as a compressed payload; find
// each compression magic, decompress from there with the matching tool, keep the first
// result that is an ELF. QEMU microvm boots that ELF through its PVH note, and Firecracker
// needs an ELF vmlinux too.
import { closeSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRunner } from '../../base/process.js';

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export function isElf(file: string): boolean {
  const buf = Buffer.alloc(4);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    return readSync(fd, buf, 0, 4, 0) === 4 && buf.equals(ELF_MAGIC);
  } finally {
    closeSync(fd);
  }
}

const EM_BY_ARCH: Record<string, { machine: number; name: string }> = {
  x64: { machine: 0x3e, name: 'x86-64' },
  arm64: { machine: 0xb7, name: 'aarch64' },
};

/**
 * Why an ELF kernel cannot boot on this host, or null: Firecracker (and QEMU's PVH entry)
 * load a 64-bit little-endian ELF of the host's architecture. A header too short to tell, or
 * a machine of 0 (unset), is left to the VMM.
 */
export function elfArchProblem(file: string, arch: string = process.arch): string | null {
  const h = Buffer.alloc(20);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, h, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'cannot be read';
  }
  const want = EM_BY_ARCH[arch];
  if (n < 20 || !want) return null;
  if (h[4] === 1) return 'is a 32-bit ELF (a 64-bit vmlinux is needed)';
  if (h[5] === 2) return 'is a big-endian ELF';
  const machine = h.readUInt16LE(18);
  if (machine !== 0 && machine !== want.machine)
    return `is an ELF for machine ${machine}, not ${want.name} (this host's architecture)`;
  return null;
}

interface Codec {
  name: string;
  magic: Buffer;
  ext: string;
  /** argv decompressing `input` (which ends in .ext) to `output`; trailing data must not be fatal. */
  argv(input: string, output: string): string[];
  /** Where the tool writes when it cannot be told an output name. */
  produced?(input: string): string;
}

// Order as in linux/scripts/extract-vmlinux; Debian's 6.1 cloud kernel is LZ4.
const CODECS: Codec[] = [
  {
    name: 'lz4',
    magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]),
    ext: 'lz4',
    argv: (i, o) => ['lz4', '-d', '-f', '-q', i, o],
  },
  {
    name: 'xz',
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    ext: 'xz',
    argv: (i) => ['xz', '-d', '-k', '-f', '-q', '--single-stream', i],
    produced: (i) => i.slice(0, -3),
  },
  {
    name: 'gzip',
    magic: Buffer.from([0x1f, 0x8b, 0x08]),
    ext: 'gz',
    argv: (i) => ['gzip', '-d', '-k', '-f', '-q', i],
    produced: (i) => i.slice(0, -3),
  },
  {
    name: 'zstd',
    magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    ext: 'zst',
    argv: (i, o) => ['zstd', '-d', '-f', '-q', i, '-o', o],
  },
];

const MAX_TRIES_PER_CODEC = 8;

export interface ExtractResult {
  codec: string;
  offset: number;
}

/** Returns how the ELF was found, or null when the image holds none. */
export async function extractVmlinux(
  runner: ProcessRunner,
  bzImage: string,
  out: string,
  workDir: string,
  signal?: AbortSignal,
): Promise<ExtractResult | null> {
  const img = readFileSync(bzImage);
  if (img.subarray(0, 4).equals(ELF_MAGIC)) {
    writeFileSync(out, img);
    return { codec: 'none', offset: 0 };
  }
  for (const c of CODECS) {
    let pos = img.indexOf(c.magic);
    for (let tries = 0; pos >= 0 && tries < MAX_TRIES_PER_CODEC; tries++, pos = img.indexOf(c.magic, pos + 1)) {
      const payload = join(workDir, `payload.${c.ext}`);
      const target = join(workDir, 'vmlinux.try');
      writeFileSync(payload, img.subarray(pos));
      rmSync(target, { force: true });
      // The payload is followed by other data (size trailer, setup code): tools complain, the ELF check decides.
      await runner.run(c.argv(payload, target), { reject: false, signal, timeoutMs: 120_000 });
      const produced = c.produced ? c.produced(payload) : target;
      rmSync(payload, { force: true });
      if (existsSync(produced) && isElf(produced)) {
        renameSync(produced, out);
        return { codec: c.name, offset: pos };
      }
      rmSync(produced, { force: true });
    }
  }
  return null;
}
