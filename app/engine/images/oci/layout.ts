// Reading what skopeo copied: the per-import OCI layout's index.json names the manifest, whose
// config and layers are blobs in the shared cache (blobs/sha256/HEX). Every blob is hashed and
// compared with its digest before it is used; a blob that does not match is removed from the
// cache (it would otherwise be trusted by digest on the next import) and the import fails.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError, ErrorCodes } from '../../../base/errors.js';
import type { ImageConfig } from '../../../contract/vm-extras.js';
import { sha256File } from '../ext4.js';
import { LAYOUT_TAG } from './skopeo.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface PulledImage {
  manifestDigest: string;
  config: Descriptor;
  layers: Descriptor[];
  /** The image config JSON as the image declares it. */
  raw: OciConfigBlob;
}

export interface OciConfigBlob {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, unknown> | null;
  };
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

export function blobPath(blobDir: string, digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `unsupported blob digest "${digest}" (sha256 only)`);
  return join(blobDir, 'sha256', m[1]);
}

/** The blob's path once its bytes hash to its digest (and its size matches, when known). */
export async function verifiedBlob(
  blobDir: string,
  d: { digest: string; size?: number },
  signal?: AbortSignal,
): Promise<string> {
  const p = blobPath(blobDir, d.digest);
  let size: number;
  try {
    size = statSync(p).size;
  } catch {
    throw new BangerError(ErrorCodes.DIGEST_MISMATCH, `blob ${d.digest} is missing after the copy`);
  }
  const hex = await sha256File(p, signal);
  if (`sha256:${hex}` !== d.digest || (d.size !== undefined && d.size !== size)) {
    rmSync(p, { force: true });
    throw new BangerError(
      ErrorCodes.DIGEST_MISMATCH,
      `blob ${d.digest} does not match its digest (got sha256:${hex}, ${size} bytes): refused and removed from the cache`,
    );
  }
  return p;
}

async function verifiedJson<T>(blobDir: string, d: Descriptor, signal?: AbortSignal): Promise<T> {
  return JSON.parse(readFileSync(await verifiedBlob(blobDir, d, signal), 'utf8')) as T;
}

export async function readPulled(layout: string, blobDir: string, signal?: AbortSignal): Promise<PulledImage> {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests?: (Descriptor & { annotations?: Record<string, string> })[];
  };
  const desc = index.manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === LAYOUT_TAG);
  if (!desc) throw new Error('skopeo left no manifest in the import layout');
  const manifest = await verifiedJson<{ config: Descriptor; layers: Descriptor[] }>(blobDir, desc, signal);
  if (!manifest.config || !Array.isArray(manifest.layers))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `manifest ${desc.digest} is not an image manifest`);
  const raw = await verifiedJson<OciConfigBlob>(blobDir, manifest.config, signal);
  return { manifestDigest: desc.digest, config: manifest.config, layers: manifest.layers, raw };
}

/** The parts of the image config banger keeps (ImageRecord.config). */
export function imageConfig(p: PulledImage): ImageConfig {
  const c = p.raw.config ?? {};
  const platform = [p.raw.os, p.raw.architecture, p.raw.variant].filter(Boolean).join('/');
  return {
    env: c.Env ?? [],
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    workingDir: c.WorkingDir || null,
    user: c.User || null,
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    digest: p.manifestDigest,
    platform: platform || null,
  };
}
