// Paths that name a user's file (image import, kernel add) must be absolute: the engine's
// working directory is not the user's, so a relative one would name another file.
import { isAbsolute } from 'node:path';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export function requireAbsolute(what: string, path: string): string {
  if (!isAbsolute(path)) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what} "${path}" is relative: the engine needs an absolute path (the CLI resolves it)`,
    );
  }
  return path;
}
