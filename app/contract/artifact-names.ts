// Image and kernel names become file names (imagesDir/<name>.ext4, kernelsDir/<name>/), so
// they are DNS-label-like with dots and underscores allowed (e.g. "debian-12", "cloud_6.1"):
// 1-63 characters of a-z 0-9 . _ -, starting with a letter or digit (no "..", no hidden files).
import { BangerError, ErrorCodes } from '../base/errors.js';

export const ARTIFACT_NAME_RULE = 'use 1-63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit';
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function validateArtifactName(kind: 'image' | 'kernel', raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!NAME.test(name)) {
    throw new BangerError(
      ErrorCodes.INVALID_NAME,
      `invalid ${kind} name "${String(raw ?? '')}": ${ARTIFACT_NAME_RULE}`,
    );
  }
  return name;
}

/** Debian package names (policy 5.6.1): what --packages accepts. */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

export function validatePackages(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'packages must be a list of Debian package names');
  for (const p of raw) {
    if (typeof p !== 'string' || !PACKAGE.test(p)) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `invalid package name "${String(p)}": Debian package names use a-z, 0-9, "+", "." and "-"`,
      );
    }
  }
  return [...new Set(raw as string[])];
}
