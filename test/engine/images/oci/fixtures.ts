// OCI image layouts written by hand for the import tests, so each layer holds exactly what a
// check needs (owners, devices, hard links, whiteouts) without root or a container runtime.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  data?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

interface Packer {
  entry(h: object, data?: Buffer | string): void;
  finalize(): void;
  on(ev: string, fn: (x?: Buffer) => void): void;
}

export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = (tarStream as unknown as { pack(): Packer }).pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  pack.on('data', (c) => chunks.push(c!));
  for (const e of entries) {
    const type = e.type ?? 'file';
    const mode = e.mode ?? (type === 'directory' ? 0o755 : 0o644);
    const h = {
      name: e.name,
      type,
      mode,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      pax: e.pax,
      mtime: new Date(1_700_000_000_000),
    };
    if (type === 'file') pack.entry(h, e.data ?? '');
    else pack.entry(h);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function writeBlob(layout: string, buf: Buffer, mediaType: string): Descriptor {
  const hex = createHash('sha256').update(buf).digest('hex');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', hex), buf);
  return { mediaType, digest: `sha256:${hex}`, size: buf.length };
}

export interface ImageSpec {
  layers: Entry[][];
  config?: Record<string, unknown>;
  arch?: string;
}

/** One image (gzip'd layers, config, manifest) into the layout's blobs; its manifest descriptor. */
export async function addImage(layout: string, spec: ImageSpec): Promise<Descriptor> {
  const arch = spec.arch ?? 'amd64';
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const l of spec.layers) {
    const tar = await tarOf(l);
    diffIds.push(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    layers.push(writeBlob(layout, gzipSync(tar), 'application/vnd.oci.image.layer.v1.tar+gzip'));
  }
  const config = writeBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: spec.config ?? {},
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers };
  return {
    ...writeBlob(layout, Buffer.from(JSON.stringify(manifest)), manifest.mediaType),
    platform: { os: 'linux', architecture: arch },
  };
}

/** A multi-platform index of manifests, as one more blob. */
export function addIndex(layout: string, manifests: Descriptor[]): Descriptor {
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
  return writeBlob(layout, Buffer.from(JSON.stringify(index)), index.mediaType);
}

/** Write index.json naming each descriptor by its tag. */
export function tagLayout(layout: string, tags: Record<string, Descriptor>): void {
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = Object.entries(tags).map(([tag, d]) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

const BUSYBOX = readFileSync('/bin/busybox');

/** busybox with owners, modes, devices, links and xattrs in layer 1; whiteouts in layer 2. */
export function busyboxLayers(): Entry[][] {
  return [
    [
      { name: 'bin/', type: 'directory' },
      { name: 'bin/busybox', data: BUSYBOX, mode: 0o755 },
      { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
      { name: 'bin/bb-hard', type: 'link', linkname: 'bin/busybox' },
      { name: 'bin/suid', data: 'x', mode: 0o4755 },
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' },
      { name: 'etc/gone', data: 'removed by layer 2' },
      { name: 'etc/shadow', data: 'root:*:1::::::\n', mode: 0o640, gid: 42 },
      { name: 'home/', type: 'directory' },
      { name: 'home/alice/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
      { name: 'home/alice/notes', data: 'hi', uid: 1000, gid: 1000, mode: 0o600 },
      { name: 'srv/ro/', type: 'directory', mode: 0o555 },
      { name: 'srv/ro/file', data: 'read only dir' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/old', data: 'hidden by the opaque marker' },
      { name: 'dev/', type: 'directory' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
      { name: 'run/', type: 'directory' },
      { name: 'run/pipe', type: 'fifo', mode: 0o600 },
      { name: 'xattr-file', data: 'x', pax: { 'SCHILY.xattr.user.banger': 'hello' } },
      { name: 'var/www/index.html', data: '<p>hi</p>', uid: 33, gid: 33 },
    ],
    [
      { name: 'etc/.wh.gone' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/.wh..wh..opq' },
      { name: 'opq/new', data: 'layer 2' },
      { name: 'etc/added', data: 'layer 2' },
    ],
  ];
}

export const BUSYBOX_CONFIG = {
  Env: ['PATH=/bin', 'GREETING=hello'],
  Entrypoint: ['/bin/sh', '-c'],
  Cmd: ['echo served; sleep 1000'],
  WorkingDir: '/srv',
  User: '1000:1000',
  ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
};

/** An image with no init and no shell: a data file and a marker. */
export function noInitLayers(): Entry[][] {
  return [
    [
      { name: 'app/hello.txt', data: 'no init here\n' },
      { name: 'etc/os-release', data: 'ID=scratchy\n' },
    ],
  ];
}
