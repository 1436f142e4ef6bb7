// Outbound NAT for the VM subnet. nftables: a table of our own per bridge (`inet
// banger_BRIDGE`, so banger instances with different bridges never replace each other's),
// replaced atomically in one script so a re-run never leaves a gap or duplicates, and never
// touches anyone else's rules. iptables only when nft is missing.
import { createHash } from 'node:crypto';
import { which, type ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { formatCidr, formatIp, gatewayOf, type Cidr } from './cidr.js';

export type NatBackend = 'nft' | 'iptables';
/** The one table every instance shared before tables were named after the bridge. */
export const LEGACY_NFT_TABLE = 'banger';

/**
 * banger_BRIDGE. nft identifiers take letters, digits and _ only (unquoted); a bridge name
 * with . or - is mapped to _ plus a short hash of the real name, so br-0 and br_0 differ.
 */
export function nftTableName(bridge: string): string {
  quoteIfname(bridge);
  const plain = bridge.replace(/[^A-Za-z0-9_]/g, '_');
  if (plain === bridge) return `banger_${bridge}`;
  return `banger_${plain}_${createHash('sha256').update(bridge).digest('hex').slice(0, 6)}`;
}

// sudo's secure_path has the sbin dirs even when the user's PATH does not.
const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;

export function detectNatBackend(whichFn: (bin: string, path?: string) => string | null = which): NatBackend {
  if (whichFn('nft', SBIN_PATH)) return 'nft';
  if (whichFn('iptables', SBIN_PATH)) return 'iptables';
  throw new BangerError(
    ErrorCodes.NETWORK,
    'neither nft nor iptables is installed: VMs cannot reach outside networks (install nftables)',
  );
}

function quoteIfname(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `bad interface name "${name}"`);
  }
  return `"${name}"`;
}

/**
 * The whole table in one transaction: declaring it first makes the delete succeed even when
 * it does not exist yet, then the fresh definition replaces it.
 */
export function nftScript(bridge: string, subnet: Cidr, dnsRedirect?: number): string {
  const br = quoteIfname(bridge);
  const net = formatCidr(subnet);
  const table = nftTableName(bridge);
  const gw = formatIp(gatewayOf(subnet));
  // A non-root engine cannot bind port 53: guests' DNS to the gateway goes to its own port.
  const redirect =
    dnsRedirect === undefined
      ? []
      : [
          '  chain prerouting {',
          '    type nat hook prerouting priority dstnat; policy accept;',
          `    iifname ${br} ip daddr ${gw} udp dport 53 redirect to :${dnsRedirect}`,
          `    iifname ${br} ip daddr ${gw} tcp dport 53 redirect to :${dnsRedirect}`,
          '  }',
        ];
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${net} oifname != ${br} masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname ${br} accept`,
    `    oifname ${br} ct state established,related accept`,
    // New connections into the VM subnet from anywhere but the bridge (libvirt's default):
    // the chain's accept policy alone would let the LAN in.
    `    oifname ${br} drop`,
    '  }',
    ...redirect,
    '}',
    '',
  ].join('\n');
}

export function nftRemoveScript(bridge: string): string {
  const table = nftTableName(bridge);
  return `table inet ${table}\ndelete table inet ${table}\n`;
}

/**
 * An older build's shared `inet banger` table, if it is for this bridge: removed, since our
 * own table now does its job. One for another bridge is another instance's and stays.
 * Best effort: returns whether it was removed.
 */
export async function removeLegacyNftTable(runner: ProcessRunner, bridge: string): Promise<boolean> {
  const list = await runner.run(['nft', 'list', 'table', 'inet', LEGACY_NFT_TABLE], {
    privileged: true,
    reject: false,
  });
  if (list.exitCode !== 0 || !list.stdout.includes(quoteIfname(bridge))) return false;
  const del = await runner.run(['nft', 'delete', 'table', 'inet', LEGACY_NFT_TABLE], {
    privileged: true,
    reject: false,
  });
  return del.exitCode === 0;
}

/** iptables rules as [table, chain, ...match] (appended with -A, checked with -C, removed with -D). */
export function iptablesRules(bridge: string, subnet: Cidr, dnsRedirect?: number): string[][] {
  const tag = ['-m', 'comment', '--comment', 'banger'];
  const gw = formatIp(gatewayOf(subnet));
  // The nft table's DNS redirect (see nftScript), for hosts without nft.
  const redirect = (proto: string) => [
    ...['nat', 'PREROUTING', '-i', bridge, '-d', `${gw}/32`, '-p', proto, '--dport', '53', ...tag],
    ...['-j', 'REDIRECT', '--to-ports', String(dnsRedirect)],
  ];
  return [
    ['nat', 'POSTROUTING', '-s', formatCidr(subnet), '!', '-o', bridge, ...tag, '-j', 'MASQUERADE'],
    ['filter', 'FORWARD', '-i', bridge, ...tag, '-j', 'ACCEPT'],
    ['filter', 'FORWARD', '-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...tag, '-j', 'ACCEPT'],
    // Appended after the ACCEPT above, so only new inbound connections meet it.
    ['filter', 'FORWARD', '-o', bridge, ...tag, '-j', 'DROP'],
    ...(dnsRedirect !== undefined ? [redirect('udp'), redirect('tcp')] : []),
  ];
}

async function enableForwarding(runner: ProcessRunner): Promise<void> {
  await setIpForward(runner, '1');
}

/** net.ipv4.ip_forward as '0' or '1'; null when it cannot be read. */
export async function readIpForward(runner: ProcessRunner): Promise<string | null> {
  const r = await runner.run(['sysctl', '-n', 'net.ipv4.ip_forward'], { reject: false });
  const v = r.stdout.trim();
  return r.exitCode === 0 && /^[01]$/.test(v) ? v : null;
}

export async function setIpForward(runner: ProcessRunner, value: '0' | '1'): Promise<void> {
  await runner.run(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${value}`], { privileged: true });
}

/**
 * Other banger instances' NAT on this host (their tables, or FORWARD rules tagged banger on
 * another bridge): they still need forwarding. null when it cannot be told.
 */
export async function otherInstancesNat(
  runner: ProcessRunner,
  backend: NatBackend,
  bridge: string,
): Promise<string[] | null> {
  const argv = backend === 'nft' ? ['nft', 'list', 'tables'] : ['iptables', '-S', 'FORWARD'];
  const r = await runner.run(argv, { privileged: true, reject: false });
  if (r.exitCode !== 0) return null;
  if (backend === 'nft') {
    const ours = nftTableName(bridge);
    return [...r.stdout.matchAll(/^table inet (banger\w*)$/gm)].map((m) => m[1]).filter((t) => t !== ours);
  }
  return r.stdout
    .split('\n')
    .filter((l) => l.includes('banger') && !l.includes(` ${bridge} `))
    .map((l) => l.trim());
}

export async function ensureNat(
  runner: ProcessRunner,
  backend: NatBackend,
  bridge: string,
  subnet: Cidr,
  opts: { legacy?: boolean; dnsRedirect?: number } = {},
): Promise<void> {
  if (backend === 'nft') {
    await runner.run(['nft', '-f', '-'], { privileged: true, input: nftScript(bridge, subnet, opts.dnsRedirect) });
    if (opts.legacy !== false) await removeLegacyNftTable(runner, bridge);
  } else {
    for (const [table, chain, ...rule] of iptablesRules(bridge, subnet, opts.dnsRedirect)) {
      const check = await runner.run(['iptables', '-t', table, '-C', chain, ...rule], {
        privileged: true,
        reject: false,
      });
      if (check.exitCode !== 0) await runner.run(['iptables', '-t', table, '-A', chain, ...rule], { privileged: true });
    }
  }
  // After the rules, so forwarding never starts before masquerading is in place.
  await enableForwarding(runner);
}

/** Remove our NAT; idempotent. ip_forward is left as is: other software may rely on it. */
export async function removeNat(
  runner: ProcessRunner,
  backend: NatBackend,
  bridge: string,
  subnet: Cidr,
  dnsRedirect?: number,
): Promise<void> {
  if (backend === 'nft') {
    await runner.run(['nft', '-f', '-'], { privileged: true, input: nftRemoveScript(bridge) });
    await removeLegacyNftTable(runner, bridge);
    return;
  }
  for (const [table, chain, ...rule] of iptablesRules(bridge, subnet, dnsRedirect)) {
    // -D removes one copy; loop in case an older run appended duplicates.
    for (let i = 0; i < 16; i++) {
      const del = await runner.run(['iptables', '-t', table, '-D', chain, ...rule], {
        privileged: true,
        reject: false,
      });
      if (del.exitCode !== 0) break;
    }
  }
}

/** Is our NAT in place? null when it cannot be told (e.g. sudo would prompt). */
export async function natActive(
  runner: ProcessRunner,
  backend: NatBackend,
  bridge: string,
  subnet: Cidr,
): Promise<boolean | null> {
  const [table, chain, ...rule] = iptablesRules(bridge, subnet)[0];
  const argv =
    backend === 'nft'
      ? ['nft', 'list', 'table', 'inet', nftTableName(bridge)]
      : ['iptables', '-t', table, '-C', chain, ...rule];
  try {
    const r = await runner.run(argv, { privileged: true, reject: false });
    if (/password is required|a terminal is required|no tty present/i.test(r.stderr)) return null;
    return r.exitCode === 0;
  } catch {
    return null;
  }
}
