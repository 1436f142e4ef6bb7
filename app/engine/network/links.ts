// Reading and deleting links with `ip -j`. Reads are unprivileged; changes go through sudo.
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export interface LinkInfo {
  name: string;
  /** Administratively up (the UP flag), not carrier. */
  up: boolean;
  operstate: string;
  /** linkinfo.info_kind: "bridge", "tun", "dummy", ... */
  kind: string | null;
  master: string | null;
  /** The interface alias (ifalias); banger tags its TAPs with it. */
  alias: string | null;
}

interface LinkJson {
  ifname: string;
  flags?: string[];
  operstate?: string;
  master?: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string };
}

const MISSING_RE = /does not exist|Cannot find device/i;

function toInfo(j: LinkJson): LinkInfo {
  return {
    name: j.ifname,
    up: (j.flags ?? []).includes('UP'),
    operstate: j.operstate ?? 'UNKNOWN',
    kind: j.linkinfo?.info_kind ?? null,
    master: j.master ?? null,
    alias: j.ifalias || null,
  };
}

function parse(stdout: string): LinkJson[] {
  try {
    const v = JSON.parse(stdout.trim() || '[]');
    return Array.isArray(v) ? v : [];
  } catch (err) {
    throw new BangerError(ErrorCodes.NETWORK, 'cannot parse the output of ip -j link show', { cause: err });
  }
}

/** The link, or null when it does not exist. */
export async function getLink(runner: ProcessRunner, name: string): Promise<LinkInfo | null> {
  const r = await runner.run(['ip', '-j', '-d', 'link', 'show', 'dev', name], { reject: false });
  if (r.exitCode !== 0) {
    if (MISSING_RE.test(r.stderr)) return null;
    throw new BangerError(ErrorCodes.NETWORK, `ip link show ${name} failed: ${r.stderr.trim()}`, {
      details: { argv: r.argv },
    });
  }
  const [j] = parse(r.stdout);
  return j ? toInfo(j) : null;
}

export async function listLinks(runner: ProcessRunner): Promise<LinkInfo[]> {
  const r = await runner.run(['ip', '-j', '-d', 'link', 'show']);
  return parse(r.stdout).map(toInfo);
}

/** IPv4 addresses on a link as "a.b.c.d/prefix". */
export async function linkAddrs(runner: ProcessRunner, name: string): Promise<string[]> {
  const r = await runner.run(['ip', '-j', '-4', 'addr', 'show', 'dev', name]);
  const links = JSON.parse(r.stdout.trim() || '[]') as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`));
}

/** Delete a link; a link that is already gone is fine (idempotent). Returns whether it existed. */
export async function deleteLink(runner: ProcessRunner, name: string): Promise<boolean> {
  const r = await runner.run(['ip', 'link', 'del', 'dev', name], { privileged: true, reject: false });
  if (r.exitCode === 0) return true;
  if (MISSING_RE.test(r.stderr)) return false;
  // Re-run rejecting, so sudo and other failures surface with the runner's own clear error.
  await runner.run(['ip', 'link', 'del', 'dev', name], { privileged: true });
  return true;
}
