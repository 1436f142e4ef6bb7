// The zone's records (one label -> one IPv4 address), checked at the door, and the responder's
// counters.
import { isIPv4 } from 'node:net';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { LABEL } from './zone.js';

export interface DnsRecord {
  name: string;
  ip: string;
}

export interface DnsStats {
  queries: number;
  noerror: number;
  nxdomain: number;
  nodata: number;
  refused: number;
  formerr: number;
  notimp: number;
  servfail: number;
  forwarded: number;
  dropped: number;
}

export function emptyStats(): DnsStats {
  return {
    queries: 0,
    noerror: 0,
    nxdomain: 0,
    nodata: 0,
    refused: 0,
    formerr: 0,
    notimp: 0,
    servfail: 0,
    forwarded: 0,
    dropped: 0,
  };
}

/** Validate one record: a single DNS label and a dotted IPv4 address. */
export function normaliseRecord(r: DnsRecord): DnsRecord {
  const name = String(r?.name ?? '')
    .trim()
    .toLowerCase();
  if (!LABEL.test(name)) {
    throw new BangerError(
      ErrorCodes.INVALID_NAME,
      `invalid DNS record name "${r?.name}": use one label of a-z, 0-9 and "-"`,
    );
  }
  if (!isIPv4(String(r?.ip ?? ''))) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid IPv4 address "${r?.ip}" for ${name}`);
  }
  return { name, ip: r.ip };
}
