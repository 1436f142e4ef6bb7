// The privileged entry point's fixed set of verbs. Each checks its arguments against the
// user's policy (bridge, subnet, banger_* tables, TAPs the user owns, paths inside the user's
// banger dirs) and yields the one host command it stands for; anything else is refused before
// anything runs. Installed as root-owned code: node: builtins and the entry point's own files only.
import { chownSync, closeSync, constants, fstatSync, openSync } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  assertBridge,
  assertOwnTap,
  assertSubnet,
  assertTapName,
  gatewayCidr,
  refuse,
  SAFE_ARG_RE,
  type Policy,
} from './policy.js';
import { planFirecracker, type VmmAction } from './vmm-verbs.js';
import { planJailBase, planJailer, planJailRm } from './jail-verbs.js';
import { planDebianBuild } from './build-verbs.js';
import { at, closeDir, O_PATH, userDirOf } from './fd-walk.js';
import { planKill } from './kill-verb.js';
import { planIpForward } from './forward-verb.js';

/** A host command (argv, optional stdin), a change made in-process, or a VMM to run and wait for. */
export type Action = { argv: string[]; input?: string } | { run: () => void | Promise<void>; what: string } | VmmAction;

export const VERBS = [
  'check',
  'bridge-add',
  'addr-add',
  'link-up',
  'link-del',
  'tap-add',
  'tap-attach',
  'nft-apply',
  'nft-list',
  'nft-tables',
  'nft-delete',
  'iptables',
  'iptables-list',
  'ip-forward',
  'kill',
  'chown-sock',
  'firecracker',
  'jailer',
  'jail-rm',
  'debootstrap-image',
] as const;
export type Verb = (typeof VERBS)[number];

/** banger_BRIDGE, as app/engine/network/nat.ts names it (a test keeps the two equal). */
export function nftTableName(bridge: string): string {
  const plain = bridge.replace(/[^A-Za-z0-9_]/g, '_');
  if (plain === bridge) return `banger_${bridge}`;
  return `banger_${plain}_${createHash('sha256').update(bridge).digest('hex').slice(0, 6)}`;
}

/** The one table every instance shared in older builds (removed once, if it is ours). */
const LEGACY_TABLE = 'banger';

function tablesOf(p: Policy): string[] {
  return p.bridges.map(nftTableName);
}

/**
 * An nft script is accepted line by line: only the statements banger's NAT table is made of,
 * for one configured bridge, its own table and a configured subnet, with accept policies.
 */
export function checkNftScript(p: Policy, script: string): void {
  if (script.length > 4096) refuse('nft script too long');
  let bridge: string | null = null;
  const sameBridge = (b: string) => {
    assertBridge(p, b);
    if (bridge !== null && bridge !== b) refuse('an nft script may name one bridge only');
    bridge = b;
  };
  const tables = new Set<string>();
  const fixed = new Set([
    '',
    '}',
    'chain postrouting {',
    'chain forward {',
    'chain prerouting {',
    'type nat hook postrouting priority srcnat; policy accept;',
    'type nat hook prerouting priority dstnat; policy accept;',
    'type filter hook forward priority filter; policy accept;',
  ]);
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (fixed.has(line)) continue;
    let m: RegExpExecArray | null;
    if ((m = /^(?:delete )?table inet (\w+)(?: \{)?$/.exec(line))) tables.add(m[1]);
    else if ((m = /^ip saddr (\S+) oifname != "([\w.-]+)" masquerade$/.exec(line))) {
      assertSubnet(p, m[1]);
      sameBridge(m[2]);
    } else if ((m = /^(?:iifname|oifname) "([\w.-]+)" (?:accept|ct state established,related accept|drop)$/.exec(line)))
      sameBridge(m[1]);
    else if ((m = /^iifname "([\w.-]+)" ip daddr (\S+) (?:udp|tcp) dport 53 redirect to :(\d+)$/.exec(line))) {
      // Guests' DNS on the gateway to the user's own unprivileged listener, and nothing else.
      sameBridge(m[1]);
      if (!p.subnets.some((s) => gatewayCidr(s)?.split('/')[0] === m![2]))
        refuse(`${m[2]} is not the gateway of a subnet configured for ${p.user}`);
      if (p.dnsPort === undefined || Number(m[3]) !== p.dnsPort)
        refuse(`DNS redirect to port ${m[3]}: ${p.user}'s policy allows ${p.dnsPort ?? 'none'}`);
    } else refuse(`nft statement not allowed: "${line.slice(0, 80)}"`);
  }
  for (const t of tables) {
    if (!tablesOf(p).includes(t)) refuse(`nft table ${t} is not one of ${p.user}'s (${tablesOf(p).join(', ')})`);
    if (bridge !== null && t !== nftTableName(bridge)) refuse(`nft table ${t} is not the table of bridge ${bridge}`);
  }
}

/** iptables rules banger uses for a bridge and subnet (nat.ts's, kept equal by a test). */
export function iptablesRules(bridge: string, subnet: string, dnsPort?: number): string[][] {
  const tag = ['-m', 'comment', '--comment', 'banger'];
  const gw = gatewayCidr(subnet)?.split('/')[0];
  const redirect = (proto: string) => [
    ...['nat', 'PREROUTING', '-i', bridge, '-d', `${gw}/32`, '-p', proto, '--dport', '53', ...tag],
    ...['-j', 'REDIRECT', '--to-ports', String(dnsPort)],
  ];
  return [
    ['nat', 'POSTROUTING', '-s', subnet, '!', '-o', bridge, ...tag, '-j', 'MASQUERADE'],
    ['filter', 'FORWARD', '-i', bridge, ...tag, '-j', 'ACCEPT'],
    ['filter', 'FORWARD', '-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...tag, '-j', 'ACCEPT'],
    ['filter', 'FORWARD', '-o', bridge, ...tag, '-j', 'DROP'],
    ...(dnsPort !== undefined && gw ? [redirect('udp'), redirect('tcp')] : []),
  ];
}

function checkIptablesRule(p: Policy, rule: string[]): void {
  const key = rule.join(' ');
  for (const b of p.bridges)
    for (const s of p.subnets) if (iptablesRules(b, s, p.dnsPort).some((r) => r.join(' ') === key)) return;
  refuse(`iptables rule not allowed: ${key.slice(0, 120)}`);
}

function arity(verb: string, args: string[], n: number): void {
  if (args.length !== n) refuse(`${verb} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`);
}

/** A socket a root VMM made in the user's dir, handed to the user: held by descriptor from the check on. */
function chownSock(p: Policy, path: string): Action {
  const { dir, name } = userDirOf(p, path);
  let sock: number;
  try {
    sock = openSync(at(dir.fd, name), O_PATH | constants.O_NOFOLLOW);
  } catch {
    refuse(`${path} does not exist`);
  } finally {
    closeDir(dir);
  }
  const st = fstatSync(sock);
  // A second link would chown the same inode seen elsewhere (a root daemon's socket).
  if (!st.isSocket() || st.nlink !== 1 || (st.uid !== 0 && st.uid !== p.uid)) {
    closeSync(sock);
    refuse(`${path} is not a socket a VMM made (a single-link socket of root's or ${p.user}'s)`);
  }
  return {
    what: `chown ${p.uid}:${p.gid} ${path}`,
    run: () => {
      try {
        chownSync(`/proc/self/fd/${sock}`, p.uid, p.gid); // exactly the inode checked above
      } finally {
        closeSync(sock);
      }
    },
  };
}

/** More than any verb takes (the jailer's argv is the longest): a huge argv is refused unread. */
const MAX_ARGS = 64;

/** Where the entry point keeps root's records (its dir), and sysfs (tests name their own). */
export interface PlanContext {
  dir?: string;
  sysfs?: string;
}

// eslint-disable-next-line max-lines-per-function -- one flat table of verbs reads best
export function plan(p: Policy, verb: string, args: string[], input = '', ctx: PlanContext = {}): Action[] {
  if (args.length > MAX_ARGS) refuse(`too many arguments (${args.length}; at most ${MAX_ARGS})`);
  // A lone "!" is iptables' negation; nothing else outside SAFE_ARG_RE gets through.
  for (const a of [verb, ...args])
    if (a !== '!' && !SAFE_ARG_RE.test(a)) refuse(`argument not allowed: ${JSON.stringify(a)}`);
  switch (verb as Verb) {
    case 'check':
      arity(verb, args, 0);
      return [];
    case 'bridge-add':
      arity(verb, args, 1);
      assertBridge(p, args[0]);
      return [
        { argv: ['ip', 'link', 'add', 'name', args[0], 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'] },
      ];
    case 'addr-add': {
      arity(verb, args, 2);
      assertBridge(p, args[0]);
      if (!p.subnets.some((s) => gatewayCidr(s) === args[1]))
        refuse(`${args[1]} is not the gateway of a configured subnet`);
      return [{ argv: ['ip', 'addr', 'add', args[1], 'dev', args[0]] }];
    }
    case 'link-up':
    case 'link-del': {
      arity(verb, args, 1);
      if (p.bridges.includes(args[0])) assertBridge(p, args[0]);
      else assertOwnTap(p, args[0], ctx.sysfs);
      return [
        {
          argv:
            verb === 'link-up' ? ['ip', 'link', 'set', 'dev', args[0], 'up'] : ['ip', 'link', 'del', 'dev', args[0]],
        },
      ];
    }
    case 'tap-add':
      arity(verb, args, 2);
      assertTapName(args[0]);
      if (args[1] !== String(p.uid)) refuse(`a TAP can only be made for ${p.user} (uid ${p.uid})`);
      return [{ argv: ['ip', 'tuntap', 'add', 'dev', args[0], 'mode', 'tap', 'user', String(p.uid)] }];
    case 'tap-attach':
      arity(verb, args, 3);
      assertOwnTap(p, args[0], ctx.sysfs);
      if (!/^banger:[0-9a-f]{12}$/.test(args[1])) refuse(`bad TAP alias "${args[1]}"`);
      assertBridge(p, args[2]);
      return [{ argv: ['ip', 'link', 'set', 'dev', args[0], 'alias', args[1], 'master', args[2], 'up'] }];
    case 'nft-apply':
      arity(verb, args, 0);
      checkNftScript(p, input);
      return [{ argv: ['nft', '-f', '-'], input }];
    case 'nft-list':
    case 'nft-delete':
      arity(verb, args, 1);
      if (!tablesOf(p).includes(args[0]) && args[0] !== LEGACY_TABLE) refuse(`nft table ${args[0]} is not banger's`);
      if (verb === 'nft-delete' && args[0] !== LEGACY_TABLE) refuse('only the legacy banger table is deleted this way');
      return [{ argv: ['nft', verb === 'nft-list' ? 'list' : 'delete', 'table', 'inet', args[0]] }];
    case 'nft-tables':
      arity(verb, args, 0);
      return [{ argv: ['nft', 'list', 'tables'] }];
    case 'iptables': {
      const [op, table, chain, ...rule] = args;
      if (!['-C', '-A', '-D'].includes(op ?? '')) refuse('iptables takes -C, -A or -D');
      checkIptablesRule(p, [table, chain, ...rule]);
      return [{ argv: ['iptables', '-t', table, op, chain, ...rule] }];
    }
    case 'iptables-list':
      arity(verb, args, 0);
      return [{ argv: ['iptables', '-S', 'FORWARD'] }];
    case 'ip-forward':
      arity(verb, args, 1);
      return planIpForward(p, ctx.dir ?? '', args[0]);
    case 'kill':
      arity(verb, args, 2);
      return [planKill(p, args[0], args[1])];
    case 'chown-sock':
      arity(verb, args, 1);
      return [chownSock(p, args[0])];
    case 'firecracker':
      return [planFirecracker(p, args)];
    case 'jailer':
      return [...planJailBase(p), planJailer(p, args)];
    case 'jail-rm':
      arity(verb, args, 1);
      return [planJailRm(p, args[0])];
    case 'debootstrap-image':
      return [planDebianBuild(p, args)];
    default:
      refuse(`unknown verb "${verb}" (verbs: ${VERBS.join(', ')})`);
  }
}
