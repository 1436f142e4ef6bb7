// Validation of a VM spec at the entry, with exact messages and stable codes. Pure: callers
// validate before they write anything, so bad input changes nothing. Part of the contract, so
// front ends (the TUI create form) check with the engine's own rules.
import { totalmem } from 'node:os';
import { BACKENDS, type Backend } from './api.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { parseSize } from './size.js';

export const NAME_RULE = 'use 1-63 characters of a-z, 0-9 and "-", not starting or ending with "-"';
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A VM name as the engine keeps it (case folded): the one place that folds it, for every layer. */
export function foldVmName(name: string): string {
  return name.trim().toLowerCase();
}

/** A VM name is a DNS label (it becomes NAME.vm); case is folded. */
export function validateName(raw: unknown): string {
  const name = typeof raw === 'string' ? foldVmName(raw) : '';
  if (!LABEL.test(name)) {
    throw new BangerError(ErrorCodes.INVALID_NAME, `invalid VM name "${String(raw ?? '')}": ${NAME_RULE}`);
  }
  return name;
}

export function validateVcpus(raw: unknown, smt = false): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 32) {
    throw new BangerError(
      ErrorCodes.INVALID_VCPUS,
      `invalid vCPU count "${String(raw)}": must be a whole number from 1 to 32`,
    );
  }
  if (smt && n !== 1 && n % 2 !== 0) {
    throw new BangerError(
      ErrorCodes.INVALID_VCPUS,
      `invalid vCPU count ${n}: with SMT on it must be 1 or an even number`,
    );
  }
  return n;
}

export function hostMemoryMib(): number {
  return Math.floor(totalmem() / (1024 * 1024));
}

export function validateMemory(raw: unknown, maxMib = hostMemoryMib()): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 128 || n > maxMib) {
    throw new BangerError(
      ErrorCodes.INVALID_MEMORY,
      `invalid memory "${String(raw)}" MiB: must be a whole number from 128 to ${maxMib} (host memory)`,
    );
  }
  return n;
}

export const MIN_DISK_BYTES = 64 * 1024 ** 2;

export function validateDisk(raw: unknown): number {
  const bytes = parseSize(raw);
  if (bytes < MIN_DISK_BYTES) {
    throw new BangerError(ErrorCodes.INVALID_SIZE, `invalid disk size "${String(raw)}": must be at least 64M`);
  }
  return bytes;
}

export function validateBackend(raw: unknown): Backend {
  if (typeof raw !== 'string' || !(BACKENDS as readonly string[]).includes(raw)) {
    throw new BangerError(ErrorCodes.INVALID_BACKEND, `unknown backend "${String(raw)}": use ${BACKENDS.join(' or ')}`);
  }
  return raw as Backend;
}

/** Extra kernel args: printable, no newlines, bounded (Firecracker caps the command line). */
export function validateBootArgs(raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string' || /[\x00-\x1f\x7f]/.test(raw) || raw.length > 1024) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      'invalid boot args: printable text without newlines, at most 1024 characters',
    );
  }
  return raw.trim();
}

/** Graceful-stop wait: whole milliseconds, 0 (kill at once) up to one hour. Absent: from the image. */
export function validateStopTimeout(raw: unknown): number | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > 3_600_000) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `invalid stop timeout: whole milliseconds from 0 to 3600000, got ${JSON.stringify(raw) ?? typeof raw}`,
    );
  }
  return raw;
}
