// Pure IPv4/CIDR arithmetic for the VM subnet: parse, overlap, and the host addresses in order.
// Addresses are unsigned 32-bit numbers internally; strings only at the edges.
import { BangerError, ErrorCodes } from '../../base/errors.js';

export interface Cidr {
  /** Network address (host bits cleared). */
  network: number;
  prefix: number;
}

export function parseIp(s: string): number {
  const parts = s.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `not an IPv4 address: "${s}"`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * "172.30.0.0/24" -> { network, prefix }. Host bits must be zero, so a typo such as
 * 172.30.0.1/24 is caught instead of silently meaning something else.
 */
export function parseCidr(s: string): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `not a CIDR subnet (like 172.30.0.0/24): "${s}"`);
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `prefix length out of range in "${s}"`);
  const network = (ip & maskOf(prefix)) >>> 0;
  if (network !== ip) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `"${s}" has host bits set; did you mean ${formatIp(network)}/${prefix}?`,
    );
  }
  return { network, prefix };
}

/** Like parseCidr but tolerant of host bits and a missing prefix (route dsts, interface addresses). */
export function looseCidr(s: string, defaultPrefix = 32): Cidr {
  const [ipPart, prefixPart] = s.trim().split('/');
  const prefix = prefixPart === undefined ? defaultPrefix : Number(prefixPart);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `prefix length out of range in "${s}"`);
  }
  return { network: (parseIp(ipPart) & maskOf(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.network)}/${c.prefix}`;
}

export function broadcast(c: Cidr): number {
  return (c.network | (~maskOf(c.prefix) >>> 0)) >>> 0;
}

export function netmask(c: Cidr): string {
  return formatIp(maskOf(c.prefix));
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & maskOf(c.prefix)) >>> 0 === c.network;
}

/** Two prefixes overlap exactly when one contains the other's network address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.network) || contains(b, a.network);
}

/** A usable VM subnet needs a gateway and at least one guest: /30 or larger. */
export function assertUsableSubnet(c: Cidr, label: string): void {
  if (c.prefix > 30) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `subnet ${label} is too small: need at least a /30 (gateway plus one VM)`,
    );
  }
}

/** The gateway is the first host address (network + 1). */
export function gatewayOf(c: Cidr): number {
  return c.network + 1;
}

/** Guest addresses in order: from network+2 up to broadcast-1 (skips network, gateway, broadcast). */
export function* guestAddresses(c: Cidr): Generator<number> {
  const last = broadcast(c) - 1;
  for (let ip = c.network + 2; ip <= last; ip++) yield ip;
}

export function guestCapacity(c: Cidr): number {
  return Math.max(0, broadcast(c) - 1 - (c.network + 2) + 1);
}
