// Fetching an image with skopeo: every transport (registry v2 with anonymous/basic/token auth
// and the auth files podman and docker write, OCI layouts, oci-/docker-archives), the platform
// choice in an index, TLS switches and blob digests checked while copying. It copies into a
// per-import OCI layout whose blobs live in the shared layer cache (--dest-shared-blob-dir), so
// a blob already cached by digest is not fetched again.
import { BangerError, ErrorCodes } from '../../../base/errors.js';
import type { BuildJob } from '../job.js';

export interface CopyOptions {
  /** The REF as skopeo takes it (docker://..., oci:/abs/dir:tag, ...). */
  src: string;
  /** The per-import OCI layout directory (its blobs go to blobDir). */
  layout: string;
  blobDir: string;
  os: string;
  arch: string;
  variant: string | null;
  tlsVerify: boolean;
  /** Temp files of skopeo (archives are unpacked there): inside the import's work dir. */
  tmpDir: string;
  onOutput?: (chunk: string) => void;
}

export const LAYOUT_TAG = 'banger';

export async function skopeoCopy(job: BuildJob, o: CopyOptions): Promise<void> {
  const argv = ['skopeo', '--override-os', o.os, '--override-arch', o.arch];
  if (o.variant) argv.push('--override-variant', o.variant);
  argv.push('copy');
  if (o.src.startsWith('docker://') && !o.tlsVerify) argv.push('--src-tls-verify=false');
  argv.push('--dest-shared-blob-dir', o.blobDir, o.src, `oci:${o.layout}:${LAYOUT_TAG}`);
  const r = await job.run(argv, {
    reject: false,
    timeoutMs: 60 * 60_000,
    env: { TMPDIR: o.tmpDir },
    onLine: o.onOutput,
  });
  job.check();
  if (r.exitCode !== 0) throw skopeoError(o.src, r.stderr || r.stdout);
}

/** skopeo's message turned into banger's stable codes (the last line says what went wrong). */
export function skopeoError(src: string, out: string): BangerError {
  const text = out.trim();
  const last = text.split('\n').filter(Boolean).pop() ?? 'skopeo failed';
  const why = last.replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, '$1').replace(/\\"/g, '"');
  const is = (re: RegExp) => re.test(text);
  if (is(/digest did not match|digest mismatch|Digest did not match|computed digest/i))
    return new BangerError(ErrorCodes.DIGEST_MISMATCH, `${src}: a blob does not match its digest: ${why}`);
  if (is(/unauthorized|authentication required|invalid username\/password|status 401|401 Unauthorized|denied/i))
    return new BangerError(
      ErrorCodes.REGISTRY_AUTH,
      `${src}: the registry refused the credentials (log in with \`skopeo login\`, \`podman login\` or \`docker login\`): ${why}`,
    );
  if (
    is(/no image found in (image index|manifest list) for architecture|choosing image instance|no matching manifest/i)
  )
    return new BangerError(ErrorCodes.UNKNOWN_REF, `${src}: no image for this platform: ${why}`);
  if (
    is(
      /manifest unknown|name unknown|no descriptor found for reference|not found|does not exist|no such image|unknown tag|reference .* not found/i,
    )
  )
    return new BangerError(ErrorCodes.UNKNOWN_REF, `${src}: no such image or tag: ${why}`);
  // The rest are network failures, which only a registry has; a local file is unreadable.
  if (!src.startsWith('docker://')) return new BangerError(ErrorCodes.INVALID_ARGUMENT, `cannot import ${src}: ${why}`);
  if (is(/server gave HTTP response to HTTPS client/i))
    return new BangerError(
      ErrorCodes.REGISTRY_UNREACHABLE,
      `${src}: the registry speaks plain HTTP (add --tls-verify=false to import from it): ${why}`,
    );
  if (
    is(
      /connection refused|no such host|i\/o timeout|network is unreachable|dial tcp|connection reset|EOF|tls:|x509:|pinging container registry/i,
    )
  )
    return new BangerError(ErrorCodes.REGISTRY_UNREACHABLE, `${src}: cannot reach the registry: ${why}`);
  return new BangerError(ErrorCodes.INVALID_ARGUMENT, `cannot import ${src}: ${why}`);
}
