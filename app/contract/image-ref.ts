// What `banger image import NAME REF` accepts besides a local path: the transports skopeo and
// podman spell (docker://, oci:, oci-archive:, docker-archive:). Pure, so the CLI resolves
// local paths with the engine's rules and completion lists the same prefixes.
import { BangerError, ErrorCodes } from '../base/errors.js';

export const IMAGE_TRANSPORTS = ['docker://', 'oci:', 'oci-archive:', 'docker-archive:'] as const;
export type ImageTransport = 'docker' | 'oci' | 'oci-archive' | 'docker-archive';

export interface ImageRef {
  transport: ImageTransport;
  /** docker: HOST/REPO[:TAG|@sha256:..]; the others: a file or directory path. */
  location: string;
  /** oci:DIR:TAG's tag, or docker-archive:FILE:REPO:TAG's reference (null: the only image). */
  tag: string | null;
}

/** Does this import argument name a transport (rather than a local file or directory)? */
export function isTransportRef(raw: string): boolean {
  return IMAGE_TRANSPORTS.some((t) => raw.startsWith(t));
}

const DOCKER_REF =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

export function parseImageRef(raw: string): ImageRef {
  const bad = (why: string) => new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid image reference "${raw}": ${why}`);
  if (raw.startsWith('docker://')) {
    const location = raw.slice('docker://'.length);
    if (!DOCKER_REF.test(location))
      throw bad('expected docker://HOST/REPO[:TAG][@sha256:DIGEST], e.g. docker://localhost:5000/busybox:latest');
    return { transport: 'docker', location, tag: null };
  }
  for (const t of ['oci-archive', 'docker-archive', 'oci'] as const) {
    if (!raw.startsWith(`${t}:`)) continue;
    const rest = raw.slice(t.length + 1);
    // PATH[:TAG]: the path is everything before the first colon, as skopeo reads it.
    const i = rest.indexOf(':');
    const location = i < 0 ? rest : rest.slice(0, i);
    const tag = i < 0 ? null : rest.slice(i + 1);
    if (!location) throw bad(`expected ${t}:PATH[:TAG]`);
    if (tag !== null && !tag) throw bad('empty tag after ":"');
    return { transport: t, location, tag };
  }
  throw bad(`use a path or one of ${IMAGE_TRANSPORTS.join(', ')}`);
}

/** The REF as skopeo takes it, with a local path made absolute by abs(). */
export function formatImageRef(ref: ImageRef, abs: (p: string) => string = (p) => p): string {
  if (ref.transport === 'docker') return `docker://${ref.location}`;
  return `${ref.transport}:${abs(ref.location)}${ref.tag !== null ? `:${ref.tag}` : ''}`;
}

const PLATFORM = /^linux\/(amd64|arm64|386|arm|ppc64le|s390x|riscv64)(?:\/(v[5-8]))?$/;

/** OS/ARCH[/VARIANT] as --platform takes it (linux only: the guest is Linux). */
export function parsePlatform(raw: string): { os: string; arch: string; variant: string | null } {
  const m = PLATFORM.exec(raw);
  if (!m)
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `invalid platform "${raw}": expected linux/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64`,
    );
  return { os: 'linux', arch: m[1], variant: m[2] ?? null };
}
