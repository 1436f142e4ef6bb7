// The network a user's policy gets at `setup sudoers --apply`: root's decision, not a copy of
// the user's config. A bridge and subnet the user set are validated (banger's bridge prefix,
// no existing non-banger interface, a private subnet clear of every host address and route and
// of every other user's policy); a user who set nothing gets a bridge and a /24 derived from
// their uid (stepping past what is taken), and a DNS port of their own. The engine reads the
// installed policy back for its defaults, so both sides agree whatever was chosen.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRunner } from '../base/process.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { formatCidr, overlaps, parseCidr, type Cidr } from '../engine/network/cidr.js';
import { hostPrefixes } from '../engine/network/routes.js';
import { listLinks, type LinkInfo } from '../engine/network/links.js';
import type { HostPrefix } from '../engine/network/routes.js';
import { BRIDGE_RE, isPrivate4, type Policy } from './root/policy.js';

/** Root's own engine's defaults (it needs no policy): no user's policy may take them. */
export const ROOT_BRIDGE = 'banger0';
export const ROOT_SUBNET = '172.30.0.0/24';
export const ROOT_DNS_PORT = 42069;
/** Users' derived /24s come from here (index 0 is root's). */
const POOL = parseCidr('172.30.0.0/16');
/** Users' derived DNS ports: ROOT_DNS_PORT + 1 + (uid mod PORT_SPAN), stepping past taken ones. */
const PORT_SPAN = 1000;

export interface NetworkChoice {
  bridge: string;
  subnet: string;
  dnsPort: number;
}

/** What is already on the host and in other users' policies. */
export interface Taken {
  links: LinkInfo[];
  prefixes: HostPrefix[];
  others: Pick<Policy, 'user' | 'bridges' | 'subnets' | 'dnsPort'>[];
}

export function defaultBridge(uid: number): string {
  return uid < 1e9 ? `banger${uid}` : `bangerx${uid.toString(16)}`;
}

/** Every other user's installed policy (world-readable); one that cannot be read stops the apply. */
export function otherPolicies(privDir: string, user: string): Taken['others'] {
  let names: string[] = [];
  try {
    names = readdirSync(join(privDir, 'users')).filter((f) => f.endsWith('.json') && f !== `${user}.json`);
  } catch {
    return [];
  }
  return names.map((f) => {
    const file = join(privDir, 'users', f);
    try {
      const p = JSON.parse(readFileSync(file, 'utf8')) as Policy;
      return { user: p.user, bridges: p.bridges ?? [], subnets: p.subnets ?? [], dnsPort: p.dnsPort };
    } catch (err) {
      // Skipping it could hand its network to this user too.
      throw new BangerError(ErrorCodes.UNSAFE_NETWORK, `cannot read ${file}: ${(err as Error).message}`);
    }
  });
}

export async function hostTaken(runner: ProcessRunner, privDir: string, user: string, bridge: string): Promise<Taken> {
  return {
    links: await listLinks(runner),
    // Our own bridge's prefix (a re-apply while it is up) is not a clash.
    prefixes: await hostPrefixes(runner, bridge),
    others: otherPolicies(privDir, user),
  };
}

function unsafe(key: string, file: string, msg: string): never {
  throw new BangerError(ErrorCodes.UNSAFE_NETWORK, `config ${key} in ${file}: ${msg}; not put in the policy`, {
    details: { key, file },
  });
}

/** Why this bridge name cannot be the user's, or null. */
function bridgeProblem(name: string, taken: Taken): string | null {
  if (!BRIDGE_RE.test(name)) return `"${name}" is not a banger bridge name (banger and up to 9 of [A-Za-z0-9_-])`;
  if (name === ROOT_BRIDGE) return `"${name}" is root's engine's bridge`;
  const owner = taken.others.find((o) => o.bridges.includes(name));
  if (owner) return `"${name}" is already ${owner.user}'s bridge`;
  const link = taken.links.find((l) => l.name === name);
  if (link && link.kind !== 'bridge') return `"${name}" is an existing ${link.kind ?? 'plain'} interface, not a bridge`;
  if (link?.master) return `"${name}" is enslaved to ${link.master}`;
  return null;
}

/** Why this subnet cannot be the user's, or null. */
function subnetProblem(c: Cidr, taken: Taken): string | null {
  const text = formatCidr(c);
  if (c.prefix > 30 || c.prefix < 16) return `${text}: a VM subnet is a /16 to a /30`;
  if (!isPrivate4(text)) return `${text} is not a private range (10/8, 172.16/12, 192.168/16)`;
  if (overlaps(c, parseCidr(ROOT_SUBNET))) return `${text} overlaps root's engine's subnet ${ROOT_SUBNET}`;
  const route = taken.prefixes.find((p) => overlaps(p.cidr, c));
  if (route) return `${text} overlaps the host's ${route.prefix}${route.dev ? ` on ${route.dev}` : ''}`;
  for (const o of taken.others)
    for (const s of o.subnets) if (overlaps(parseCidr(s), c)) return `${text} overlaps ${o.user}'s subnet ${s}`;
  return null;
}

function chooseSubnet(uid: number, explicit: string | undefined, file: string, taken: Taken): string {
  if (explicit !== undefined) {
    let c: Cidr;
    try {
      c = parseCidr(explicit);
    } catch (err) {
      return unsafe('subnet', file, (err as Error).message);
    }
    const why = subnetProblem(c, taken);
    return why ? unsafe('subnet', file, why) : formatCidr(c);
  }
  const count = 2 ** (24 - POOL.prefix);
  for (let i = 0; i < count - 1; i++) {
    const idx = 1 + ((uid + i) % (count - 1)); // never 0: root's
    const c = { network: POOL.network + idx * 256, prefix: 24 };
    if (!subnetProblem(c, taken)) return formatCidr(c);
  }
  throw new BangerError(
    ErrorCodes.SUBNET_EXHAUSTED,
    `no free /24 left in ${formatCidr(POOL)} for uid ${uid}: set "subnet" in their config.json`,
  );
}

function chooseDnsPort(uid: number, taken: Taken): number {
  const used = new Set(taken.others.map((o) => o.dnsPort));
  for (let i = 0; i < PORT_SPAN; i++) {
    const port = ROOT_DNS_PORT + 1 + ((uid + i) % PORT_SPAN);
    if (!used.has(port)) return port;
  }
  throw new BangerError(ErrorCodes.UNSAFE_NETWORK, `no free DNS port left for uid ${uid}`);
}

/**
 * The user's network, decided by root. explicit: what the user's config (or, for their own
 * apply, the environment) set; file names where, for the error.
 */
export function decideNetwork(
  uid: number,
  explicit: { bridge?: string; subnet?: string },
  file: string,
  taken: Taken,
): NetworkChoice {
  const bridge = explicit.bridge ?? defaultBridge(uid);
  const why = bridgeProblem(bridge, taken);
  if (why) unsafe('bridge', file, why);
  return { bridge, subnet: chooseSubnet(uid, explicit.subnet, file, taken), dnsPort: chooseDnsPort(uid, taken) };
}
