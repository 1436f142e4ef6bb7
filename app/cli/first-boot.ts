// vm create --user-data FILE --ssh-key FILE...: the CLI reads the files (the engine may run as
// someone else, or elsewhere) and checks them with the engine's own rules before anything is
// sent, so a bad file is refused with nothing created; ignored cloud-config keys are a warning.
import { readFileSync, statSync } from 'node:fs';
import { BangerError, ErrorCodes, type ErrorCode } from '../base/errors.js';
import {
  ignoredWarning,
  parseUserData,
  SSH_KEY_MAX_BYTES,
  USER_DATA_MAX_BYTES,
  validateSshKeys,
} from '../contract/user-data.js';

export interface FirstBootOpts {
  userData?: string;
  sshKey?: string[];
}

export interface FirstBootInput {
  userData?: string;
  sshKeys?: string[];
  /** Printed on stderr: what banger's runner will not apply. */
  warnings: string[];
}

function readCapped(flag: string, file: string, max: number, tooLarge: ErrorCode): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${flag} ${file}: not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof BangerError) throw err;
    throw unreadable(flag, file, err);
  }
  if (size > max)
    throw new BangerError(tooLarge, `${flag} ${file} is ${size} bytes; at most ${max} are taken (nothing was created)`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw unreadable(flag, file, err);
  }
}

function unreadable(flag: string, file: string, err: unknown): BangerError {
  const code = (err as NodeJS.ErrnoException).code;
  return new BangerError(
    code === 'ENOENT' ? ErrorCodes.NOT_FOUND : ErrorCodes.INVALID_ARGUMENT,
    `cannot read ${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
  );
}

export function readFirstBoot(o: FirstBootOpts): FirstBootInput {
  const out: FirstBootInput = { warnings: [] };
  if (o.userData !== undefined) {
    const text = readCapped('--user-data', o.userData, USER_DATA_MAX_BYTES, ErrorCodes.USER_DATA_TOO_LARGE);
    const parsed = parseUserData(text);
    const warning = ignoredWarning(parsed);
    if (warning) out.warnings.push(warning);
    out.userData = text;
  }
  if (o.sshKey?.length) {
    // A file may hold a few keys (an authorized_keys); each line is capped by validateSshKeys.
    const texts = o.sshKey.map((f) => readCapped('--ssh-key', f, 4 * SSH_KEY_MAX_BYTES, ErrorCodes.INVALID_ARGUMENT));
    validateSshKeys(texts);
    out.sshKeys = texts;
  }
  return out;
}
