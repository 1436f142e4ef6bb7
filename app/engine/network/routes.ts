// Refuse a VM subnet that collides with something the host already routes: creating our bridge
// on top of a LAN or VPN prefix would silently black-hole that traffic.
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { formatCidr, looseCidr, overlaps, type Cidr } from './cidr.js';

export interface HostPrefix {
  /** As the host shows it: "10.99.0.0/24", "192.168.1.7/24 (address)". */
  prefix: string;
  dev: string | null;
  cidr: Cidr;
}

interface RouteJson {
  dst?: string;
  dev?: string;
}
interface AddrJson {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

function parseJson<T>(text: string, what: string): T[] {
  try {
    const v = JSON.parse(text.trim() || '[]');
    return Array.isArray(v) ? v : [];
  } catch (err) {
    throw new BangerError(ErrorCodes.NETWORK, `cannot parse the output of ${what}`, { cause: err });
  }
}

/** Parse `ip -j -4 route show` output. The default route is not a prefix we can collide with. */
export function parseRoutes(json: string): HostPrefix[] {
  const out: HostPrefix[] = [];
  for (const r of parseJson<RouteJson>(json, 'ip -j -4 route show')) {
    if (!r.dst || r.dst === 'default' || r.dst.includes(':')) continue;
    out.push({ prefix: r.dst.includes('/') ? r.dst : `${r.dst}/32`, dev: r.dev ?? null, cidr: looseCidr(r.dst) });
  }
  return out;
}

/** Parse `ip -j -4 addr show` output: each address's connected prefix. */
export function parseAddrs(json: string): HostPrefix[] {
  const out: HostPrefix[] = [];
  for (const link of parseJson<AddrJson>(json, 'ip -j -4 addr show')) {
    for (const a of link.addr_info ?? []) {
      if (a.family && a.family !== 'inet') continue;
      if (!a.local || a.prefixlen === undefined) continue;
      // Loopback's 127/8 is never routed anywhere; an overlap there is the user's explicit choice.
      if (link.ifname === 'lo') continue;
      out.push({
        prefix: `${a.local}/${a.prefixlen}`,
        dev: link.ifname ?? null,
        cidr: looseCidr(`${a.local}/${a.prefixlen}`),
      });
    }
  }
  return out;
}

/** Every IPv4 prefix the host routes or owns, except those on our own bridge. */
export async function hostPrefixes(runner: ProcessRunner, ownBridge: string): Promise<HostPrefix[]> {
  const routes = await runner.run(['ip', '-j', '-4', 'route', 'show']);
  const addrs = await runner.run(['ip', '-j', '-4', 'addr', 'show']);
  return [...parseRoutes(routes.stdout), ...parseAddrs(addrs.stdout)].filter((p) => p.dev !== ownBridge);
}

/** Throws E_SUBNET_OVERLAP naming the first conflicting route; changes nothing. */
export async function assertNoOverlap(runner: ProcessRunner, subnet: Cidr, ownBridge: string): Promise<void> {
  const clash = (await hostPrefixes(runner, ownBridge)).find((p) => overlaps(p.cidr, subnet));
  if (clash) {
    throw new BangerError(
      ErrorCodes.SUBNET_OVERLAP,
      `subnet ${formatCidr(subnet)} overlaps the host route ${clash.prefix}${clash.dev ? ` on ${clash.dev}` : ''}; choose another subnet in the config`,
      { details: { subnet: formatCidr(subnet), route: clash.prefix, dev: clash.dev } },
    );
  }
}
