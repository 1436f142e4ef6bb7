// Sizes as people write them (disk and image sizes): one parser for VMs and images alike.
import { BangerError, ErrorCodes } from '../base/errors.js';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "512M", "4G", "1.5G", "1048576" -> bytes. */
export function parseSize(raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0) return raw;
  const m = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(raw) : null;
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]) : NaN;
  if (!m || !Number.isFinite(bytes) || bytes <= 0) {
    throw new BangerError(
      ErrorCodes.INVALID_SIZE,
      `invalid size "${String(raw ?? '')}": use a number with an optional K, M, G or T suffix (e.g. 512M, 4G)`,
    );
  }
  return bytes;
}
