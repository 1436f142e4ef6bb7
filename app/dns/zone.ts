// The zone name rules, apart from the responder so `banger dns setup` can validate a zone
// without loading the DNS wire code (dns-packet).
import { BangerError, ErrorCodes } from '../base/errors.js';

export const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Validate and normalise a zone name ("vm", "banger.test."); `.local` belongs to mDNS. */
export function normaliseZone(raw: string): string {
  const zone = String(raw ?? '')
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
  const labels = zone.split('.');
  if (zone === '' || zone.length > 200 || !labels.every((l) => LABEL.test(l))) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `invalid DNS zone "${raw}": use dot-separated labels of a-z, 0-9 and "-"`,
    );
  }
  if (labels[labels.length - 1] === 'local') {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `invalid DNS zone "${raw}": .local is resolved by mDNS, pick another (e.g. vm)`,
    );
  }
  return zone;
}
