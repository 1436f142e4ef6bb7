// Applying an image's layers, in order, to a directory as the plain user: whiteouts (`.wh.NAME`
// deletes NAME from the layers below, `.wh..wh..opq` empties a directory of them), symlinks,
// hard links, modes. What a normal user cannot write (owners other than its own, device nodes,
// fifos, security xattrs) is recorded in `meta` and written into the ext4 afterwards by debugfs
// (fixups.ts), so nothing here needs root. Paths resolve with chroot semantics (rootfs-path.ts):
// a layer's symlink never leads a later entry out of the tree.
import {
  createReadStream,
  createWriteStream,
  lstatSync,
  linkSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  chmodSync,
  unlinkSync,
  utimesSync,
  lutimesSync,
} from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { dirInRoot } from '../rootfs-path.js';
import { rawXattrs } from './tar-pax.js';

export interface EntryMeta {
  uid: number;
  gid: number;
  /** Full st_mode of a node made by debugfs (device or fifo). */
  mode: number;
  node?: { kind: 'c' | 'b' | 'p'; major: number; minor: number };
  xattrs?: Record<string, Buffer>;
}

interface Header {
  name: string;
  type: string;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string | null;
  devmajor?: number;
  devminor?: number;
  mtime?: Date;
  pax?: Record<string, string | Buffer> | null;
}

const TYPE_BITS = { 'character-device': 0o020000, 'block-device': 0o060000, fifo: 0o010000 } as const;

export class LayerApplier {
  /** Canonical path (relative to root) -> what debugfs must set there. */
  readonly meta = new Map<string, EntryMeta>();
  /** Modes the user could not leave on disk while writing (dirs without u+rwx, files without u+rw). */
  private readonly modes = new Map<string, number>();
  private layer = new Set<string>();
  warnings: string[] = [];

  constructor(private readonly root: string) {}

  /** Apply one (verified) layer blob: tar, gzip'd tar, or a tar decompressed beforehand. */
  async apply(file: string, gzip: boolean, signal?: AbortSignal): Promise<void> {
    this.layer = new Set();
    const extract = tarStream.extract();
    extract.on('entry', (header: Header, stream: Readable, next: (err?: unknown) => void) => {
      this.entry(header, stream).then(
        () => next(),
        (err) => next(err),
      );
    });
    const src = createReadStream(file);
    await pipeline(gzip ? [src, createGunzip(), extract] : [src, extract], { signal });
  }

  /** Put back the modes held open while writing (deepest first, so parents stay writable until the end). */
  finish(): void {
    const entries = [...this.modes].sort((a, b) => b[0].length - a[0].length);
    for (const [rel, mode] of entries) {
      try {
        chmodSync(join(this.root, rel), mode);
      } catch {
        /* removed since */
      }
    }
    this.modes.clear();
  }

  private async entry(h: Header, stream: Readable): Promise<void> {
    const name = cleanName(h.name);
    if (name === null) {
      this.warnings.push(`skipped unsafe path ${h.name}`);
      return drain(stream);
    }
    if (name === '') return drain(stream); // the root itself: keep banger's root
    const parent = dirInRoot(this.root, dirname(name));
    const base = basename(name);
    const relParent = relative(this.root, parent);
    if (base === '.wh..wh..opq') {
      for (const child of readdirSync(parent)) {
        const rel = join(relParent, child);
        if (!this.layer.has(rel)) this.remove(rel);
      }
      return drain(stream);
    }
    if (base.startsWith('.wh.')) {
      const rel = join(relParent, base.slice(4));
      if (!this.layer.has(rel)) this.remove(rel);
      return drain(stream);
    }
    const rel = join(relParent, base);
    this.layer.add(rel);
    await this.write(rel, h, stream);
    this.record(rel, h);
  }

  private async write(rel: string, h: Header, stream: Readable): Promise<void> {
    const p = join(this.root, rel);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const existing = lstatOrNull(p);
    if (existing && !(h.type === 'directory' && existing.isDirectory())) this.remove(rel);
    switch (h.type) {
      case 'directory':
        if (!existing?.isDirectory()) mkdirSync(p, { mode: 0o700 });
        this.keepMode(rel, mode, 0o700, p);
        return drain(stream);
      case 'file':
      case 'contiguous-file':
        await pipeline(stream, createWriteStream(p, { mode: 0o600 }));
        this.keepMode(rel, mode, 0o600, p);
        if (h.mtime) utimesSync(p, h.mtime, h.mtime);
        return;
      case 'symlink':
        symlinkSync(h.linkname ?? '', p);
        if (h.mtime) lutimesSync(p, h.mtime, h.mtime);
        return drain(stream);
      case 'link': {
        const target = cleanName(h.linkname ?? '');
        if (!target) throw new Error(`hard link ${rel} points outside the image (${h.linkname})`);
        const from = join(dirInRoot(this.root, dirname(target)), basename(target));
        linkSync(from, p);
        return drain(stream);
      }
      case 'character-device':
      case 'block-device':
      case 'fifo':
        // A placeholder debugfs replaces with the node (fixups.ts).
        await pipeline(stream, createWriteStream(p, { mode: 0o600 }));
        return;
      default:
        this.warnings.push(`skipped ${h.type} entry ${rel}`);
        return drain(stream);
    }
  }

  /** What the user could not set itself, for debugfs; a plain root-owned entry needs nothing. */
  private record(rel: string, h: Header): void {
    if (h.type === 'link') return; // shares its inode (and so the meta) with its target
    const xattrs = rawXattrs(h.pax);
    const node =
      h.type === 'character-device' || h.type === 'block-device' || h.type === 'fifo'
        ? {
            kind: h.type === 'fifo' ? ('p' as const) : h.type === 'block-device' ? ('b' as const) : ('c' as const),
            major: h.devmajor ?? 0,
            minor: h.devminor ?? 0,
          }
        : undefined;
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    if (!uid && !gid && !node && !xattrs) {
      this.meta.delete(rel);
      return;
    }
    const typeBits = node ? TYPE_BITS[h.type as keyof typeof TYPE_BITS] : 0;
    this.meta.set(rel, { uid, gid, mode: typeBits | ((h.mode ?? 0o644) & 0o7777), node, xattrs });
  }

  private keepMode(rel: string, mode: number, need: number, p: string): void {
    if ((mode & need) === need) {
      chmodSync(p, mode);
      this.modes.delete(rel);
    } else {
      chmodSync(p, mode | need);
      this.modes.set(rel, mode);
    }
  }

  /** Remove rel (a whole tree for a directory, never following a symlink) and what was recorded under it. */
  private remove(rel: string): void {
    const p = join(this.root, rel);
    const st = lstatOrNull(p);
    if (!st) return;
    if (st.isDirectory()) {
      chmodTree(p);
      rmSync(p, { recursive: true, force: true });
    } else unlinkSync(p);
    const prefix = `${rel}/`;
    for (const m of [this.meta, this.modes]) {
      for (const k of m.keys()) if (k === rel || k.startsWith(prefix)) m.delete(k);
    }
  }
}

/** A tar entry name made relative and clean; null when it climbs out ("../x"). */
export function cleanName(raw: string): string | null {
  const n = posix.normalize(`/${raw}`).replace(/^\/+/, '').replace(/\/+$/, '');
  if (n === '.' || n === '') return '';
  if (n.split('/').includes('..')) return null;
  return n;
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** Directories held without u+w (a layer's 0555 dir) must become writable before rm -r. */
function chmodTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) chmodTree(join(dir, e.name));
}

function drain(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}
