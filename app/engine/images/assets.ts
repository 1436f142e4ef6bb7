// Files shipped in the repository's assets/ (guest scripts, initramfs init, kernel fragment).
// Found relative to this module both from source (app/engine/images) and from dist/.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BangerError, ErrorCodes } from '../../base/errors.js';

let cached: string | null = null;

export function assetsDir(): string {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // The nearest ancestor's assets/: from source (app/engine/images), compiled or bundled dist/.
  const candidates = [
    process.env.BANGER_ASSETS_DIR,
    ...[1, 2, 3, 4].map((n) => resolve(here, '../'.repeat(n), 'assets')),
  ];
  for (const c of candidates) {
    if (c && existsSync(join(c, 'initramfs-init.sh'))) return (cached = c);
  }
  throw new BangerError(
    ErrorCodes.INTERNAL,
    `banger assets not found (looked in ${candidates.filter(Boolean).join(', ')})`,
  );
}

export function assetPath(rel: string): string {
  return join(assetsDir(), rel);
}
