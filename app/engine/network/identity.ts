// Names and addresses derived from a VM id: deterministic, so a restart (or a reconcile after
// a crash) finds the same TAP and MAC without having to remember them.
import { isIP } from 'node:net';
import { createHash } from 'node:crypto';
import { BangerError, ErrorCodes } from '../../base/errors.js';

/** Every TAP we create starts with this, so the orphan sweep never touches anyone else's. */
export const TAP_PREFIX = 'bgr-';
/** Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL). */
export const IFNAME_MAX = 15;

const VM_ID_RE = /^[0-9a-f]{12,}$/;

export function assertVmId(vmId: string): void {
  if (!VM_ID_RE.test(vmId)) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `bad VM id "${vmId}": expected 12 or more lowercase hex characters`,
    );
  }
}

/** bgr- + the first 6 hex of the id: 10 bytes, well under IFNAMSIZ. */
export function tapName(vmId: string): string {
  assertVmId(vmId);
  return TAP_PREFIX + vmId.slice(0, 6);
}

/** Named like a banger TAP. Whose it is (which banger instance) is told by its alias. */
export function isOurTap(name: string): boolean {
  return /^bgr-[0-9a-f]{6}$/.test(name);
}

/**
 * A short, stable id for one banger instance (seeded with its state dir): several users or
 * state dirs on one host each sweep only the TAPs carrying their own tag.
 */
export function instanceTag(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 12);
}

/** The interface alias (`ip link set TAP alias ...`) marking a TAP as this instance's. */
export function tapAlias(tag: string): string {
  return `banger:${tag}`;
}

/**
 * 06: + 5 bytes of sha256(id). 0x06 has the locally-administered bit (0x02) set and the
 * multicast bit (0x01) clear, so it can never clash with a vendor-assigned MAC.
 */
export function macFor(vmId: string): string {
  assertVmId(vmId);
  const h = createHash('sha256').update(vmId).digest();
  return ['06', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The kernel's static IP clause (Documentation/admin-guide/nfs/nfsroot.rst):
 * ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>.
 * DNS is the gateway, where the engine's DNS listens for guests.
 */
export function kernelIpArg(o: {
  ip: string;
  gateway: string;
  netmask: string;
  hostname: string;
  device?: string;
}): string {
  if (/[:\s]/.test(o.hostname)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `hostname "${o.hostname}" cannot go into the kernel ip= clause`);
  }
  return `ip=${o.ip}::${o.gateway}:${o.netmask}:${o.hostname}:${o.device ?? 'eth0'}:off:${o.gateway}`;
}

/** The same ip= clause with other DNS servers (dns0, dns1: its last fields after autoconf). */
export function withDnsServers(ipArg: string, dns: string[]): string {
  const m = /^(ip=(?:[^:]*:){6}[^:]*)(?::.*)?$/.exec(ipArg);
  if (!m || !dns.length) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `cannot set DNS servers in "${ipArg}"`);
  for (const d of dns.slice(0, 2)) {
    if (isIP(d) !== 4) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `DNS server "${d}" is not an IPv4 address`);
  }
  return `${m[1]}:${dns.slice(0, 2).join(':')}`;
}
