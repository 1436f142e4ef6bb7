// What the privileged entry point lets one user touch: banger's own namespace, fixed by root
// at `banger setup sudoers --apply` time (a root-owned JSON file per user next to the entry
// point), never by anything the user can edit. Installed as root-owned code: node: builtins
// only, no imports from the (user-writable) checkout.
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Policy {
  user: string;
  uid: number;
  gid: number;
  /** Bridge names this user's engine may create, address and remove. */
  bridges: string[];
  /** VM subnets (CIDR) this user's engine may put on those bridges and NAT. */
  subnets: string[];
  /** The user's banger dirs (state, cache, runtime bases): sockets and VMM paths live inside. */
  dirs: string[];
  /**
   * The user's DNS port (1024+, distinct per user): their engine listens on it, and the only
   * nft redirect allowed sends their guests' gateway port 53 to it. Absent: no redirect.
   */
  dnsPort?: number;
  /**
   * The one Firecracker binary the `firecracker` verb may run as root (the sudo fallback), fixed
   * by `banger setup sudoers --apply --firecracker PATH`; root-owned. Absent: the verb refuses.
   */
  firecracker?: string;
  /**
   * Firecracker's jailer (root-owned), fixed by `--jailer PATH`: the `jailer` verb runs it with
   * `firecracker` as the exec file, the user's uid/gid and jailBase. With a jailer, the root
   * `firecracker` verb is refused: the VMM runs as the user, jailed.
   */
  jailer?: string;
  /** The jailer's chroot base: root's alone (it is where root mknods and chowns). */
  jailBase?: string;
}

/** A refusal: the entry point changes nothing and says why. */
export class Refusal extends Error {}

export function refuse(msg: string): never {
  throw new Refusal(msg);
}

export const TAP_RE = /^bgr-[0-9a-f]{6}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
/** The bridge names a policy may hold: banger's own prefix, never a host interface's name. */
export const BRIDGE_RE = /^banger[A-Za-z0-9_-]{0,9}$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Every argument is one of these characters: no shell metacharacters, spaces or newlines. */
export const SAFE_ARG_RE = /^[A-Za-z0-9_.:/=,+@-]{1,200}$/;

export function policyPath(dir: string, user: string): string {
  if (!USER_RE.test(user)) refuse(`bad user name "${user}"`);
  return join(dir, 'users', `${user}.json`);
}

/** Root-owned, not writable by group or others: else anyone who can edit it is root. */
export function assertRootOwned(path: string, what: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) refuse(`${what} ${path} does not exist`);
  if (st.isSymbolicLink()) refuse(`${what} ${path} is a symlink`);
  if (st.uid !== 0 || (st.mode & 0o022) !== 0)
    refuse(`${what} ${path} must be owned by root and not group/other-writable`);
}

/** A root-owned file whose every parent dir is root-only too: what root may exec for the user. */
export function assertRootOnlyFile(path: string, what: string): void {
  if (!path.startsWith('/') || path.split('/').includes('..'))
    refuse(`${what} "${path}" is not an absolute, normal path`);
  assertRootOwned(path, what);
  if (!statSync(path).isFile()) refuse(`${what} ${path} is not a file`);
  for (let d = dirname(path); ; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) refuse(`${what} ${path}: ${d} is not root-only`);
    if (d === dirname(d)) return;
  }
}

export function loadPolicy(dir: string, user: string, uid: number): Policy {
  const path = policyPath(dir, user);
  assertRootOwned(dir, 'directory');
  assertRootOwned(join(dir, 'users'), 'directory');
  assertRootOwned(path, 'policy');
  let p: Policy;
  try {
    p = JSON.parse(readFileSync(path, 'utf8')) as Policy;
  } catch (err) {
    refuse(`cannot read the policy ${path}: ${(err as Error).message}`);
  }
  if (p.user !== user || p.uid !== uid) refuse(`the policy ${path} is not for user ${user} (uid ${uid})`);
  // Older builds copied any name from the user's config, and gave every user root's network
  // (banger0, no DNS port): such a file is not used at all until root re-applies.
  const badBridge = (p.bridges ?? []).find((b) => !BRIDGE_RE.test(b));
  const badNet = (p.subnets ?? []).find((s) => !parseCidr4(s) || !isPrivate4(s));
  if (badBridge !== undefined || badNet !== undefined || !validPort(p.dnsPort))
    refuse(
      `the policy ${path} is from an older banger (a network root did not choose): re-run banger setup sudoers --apply`,
    );
  return p;
}

export interface Cidr4 {
  base: number;
  prefix: number;
}

function ipToInt(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return null;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function parseCidr4(s: string): Cidr4 | null {
  const [ip, p, extra] = s.split('/');
  const base = ipToInt(ip ?? '');
  const prefix = Number(p);
  if (base === null || extra !== undefined || !/^\d{1,2}$/.test(p ?? '') || prefix < 8 || prefix > 30) return null;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (base & mask) >>> 0, prefix };
}

/** A DNS port a policy may name: unprivileged, so no system service can be its target. */
export function validPort(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1024 && n <= 65535;
}

/** The private ranges (RFC 1918) a VM subnet may come from, whole. */
const PRIVATE4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

export function isPrivate4(subnet: string): boolean {
  const c = parseCidr4(subnet);
  if (!c) return false;
  return PRIVATE4.some((r) => {
    const p = parseCidr4(r)!;
    const mask = (0xffffffff << (32 - p.prefix)) >>> 0;
    return c.prefix >= p.prefix && (c.base & mask) >>> 0 === p.base;
  });
}

/** "a.b.c.1/24" for a configured subnet: the only address a bridge may get. */
export function gatewayCidr(subnet: string): string | null {
  const c = parseCidr4(subnet);
  return c ? `${intToIp(c.base + 1)}/${c.prefix}` : null;
}

export function assertBridge(p: Policy, name: string): void {
  if (!IFNAME_RE.test(name) || !p.bridges.includes(name)) {
    refuse(`"${name}" is not a bridge configured for ${p.user} (allowed: ${p.bridges.join(', ') || 'none'})`);
  }
}

export function assertTapName(name: string): void {
  if (!TAP_RE.test(name)) refuse(`"${name}" is not a banger TAP name (bgr- and 6 hex digits)`);
}

/** The TAP's tun owner (sysfs), or null when it is not a TAP that exists. */
export function tapOwner(name: string, sysfs = '/sys/class/net'): number | null {
  try {
    const owner = readFileSync(join(sysfs, name, 'owner'), 'utf8').trim();
    return /^\d+$/.test(owner) ? Number(owner) : null;
  } catch {
    return null;
  }
}

/**
 * A banger TAP owned by this user (what tap-attach, link-up and link-del may touch). Fails
 * closed: a TAP whose owner cannot be read, or has none (-1), is not the user's.
 */
export function assertOwnTap(p: Policy, name: string, sysfs = '/sys/class/net'): void {
  assertTapName(name);
  const owner = tapOwner(name, sysfs);
  if (owner === null) {
    // "does not exist" as ip says it: the engine's idempotent removal reads it as gone.
    if (!existsSync(join(sysfs, name))) refuse(`TAP ${name} does not exist`);
    refuse(`${name} is not a TAP with an owner (a TAP banger made has its user's uid)`);
  }
  if (owner !== p.uid) refuse(`TAP ${name} belongs to uid ${owner}, not to ${p.user}`);
}

/** The subnet must be one configured for this user, written the same way. */
export function assertSubnet(p: Policy, subnet: string): void {
  if (!p.subnets.includes(subnet)) {
    refuse(`subnet ${subnet} is not configured for ${p.user} (allowed: ${p.subnets.join(', ') || 'none'})`);
  }
}
