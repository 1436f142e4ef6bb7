// Host integration: what to write so the host resolver sends only the zone to banger.
// Pure text and argv plans; the caller supplies `run` (the engine's ProcessRunner), so this
// module has no side effects of its own and tests can record what would run.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { BangerError, ErrorCodes, toBangerError } from '../base/errors.js';
import { normaliseZone } from './zone.js';

export const RESOLVED_DROPIN_PATH = '/etc/systemd/resolved.conf.d/banger.conf';
/**
 * `vm` is not on resolved's built-in list of private zones exempt from DNSSEC, so with DNSSEC
 * on, resolved would try to validate our unsigned answers against the root and fail. A negative
 * trust anchor fixes that. resolved.conf has no option for it (DNSSECNegativeTrustAnchors= is a
 * per-link networkd setting); system-wide anchors live in dnssec-trust-anchors.d(5) *.negative
 * files, one domain per line.
 */
export const RESOLVED_NTA_PATH = '/etc/dnssec-trust-anchors.d/banger.negative';

export interface Target {
  zone?: string;
  address?: string;
  port?: number;
}
export type Runner = (argv: string[], opts: { input?: string; privileged?: boolean }) => Promise<unknown>;
export interface Step {
  argv: string[];
  input?: string;
  privileged: boolean;
  why: string;
}

function target(t: Target): { zone: string; address: string; port: number } {
  const zone = normaliseZone(t.zone ?? 'vm');
  const address = t.address ?? '127.0.0.1';
  const port = t.port ?? 42069;
  if (isIP(address) === 0)
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid DNS address "${address}": use an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid DNS port ${port}: must be 1-65535`);
  }
  return { zone, address, port };
}

function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The systemd-resolved drop-in: route only ~zone to banger. */
export function resolvedDropIn(t: Target = {}): string {
  const { zone, address, port } = target(t);
  return `# Written by banger: send only *.${zone} to banger's DNS server.\n[Resolve]\nDNS=${hostPort(address, port)}\nDomains=~${zone}\n`;
}

/** The negative trust anchor file body: DNSSEC validation stops at the zone. */
export function resolvedNegativeAnchor(t: Target = {}): string {
  return `; Written by banger: ${target(t).zone} is served unsigned by banger.\n${target(t).zone}\n`;
}

/** The dnsmasq (or NetworkManager dns=dnsmasq) line. */
export function dnsmasqLine(t: Target = {}): string {
  const { zone, address, port } = target(t);
  return `server=/${zone}/${address}#${port}`;
}

/** The same routing for one link only, without files (lost when resolved restarts). */
export function resolvectlCommands(link: string, t: Target = {}): string[][] {
  const { zone, address, port } = target(t);
  return [
    ['resolvectl', 'dns', link, hostPort(address, port)],
    ['resolvectl', 'domain', link, `~${zone}`],
    ['resolvectl', 'nta', link, zone],
  ];
}

/** The argv steps that install the resolved drop-in and the trust anchor, then restart resolved. */
export function planResolvedSetup(t: Target = {}): Step[] {
  return [
    {
      argv: ['install', '-d', '-m', '0755', '/etc/systemd/resolved.conf.d'],
      privileged: true,
      why: 'create the drop-in directory',
    },
    {
      argv: ['tee', RESOLVED_DROPIN_PATH],
      input: resolvedDropIn(t),
      privileged: true,
      why: 'route the zone to banger',
    },
    {
      argv: ['install', '-d', '-m', '0755', '/etc/dnssec-trust-anchors.d'],
      privileged: true,
      why: 'create the trust anchor directory',
    },
    {
      argv: ['tee', RESOLVED_NTA_PATH],
      input: resolvedNegativeAnchor(t),
      privileged: true,
      why: 'exempt the zone from DNSSEC validation',
    },
    { argv: ['systemctl', 'restart', 'systemd-resolved'], privileged: true, why: 'load the new configuration' },
  ];
}

/** The steps that undo planResolvedSetup. */
export function planResolvedRemoval(): Step[] {
  return [
    {
      argv: ['rm', '-f', RESOLVED_DROPIN_PATH, RESOLVED_NTA_PATH],
      privileged: true,
      why: "remove banger's resolver files",
    },
    {
      argv: ['systemctl', 'restart', 'systemd-resolved'],
      privileged: true,
      why: 'load the configuration without banger',
    },
  ];
}

async function runSteps(run: Runner, steps: Step[]): Promise<void> {
  for (const s of steps) {
    try {
      await run(s.argv, { input: s.input, privileged: s.privileged });
    } catch (err) {
      throw new BangerError(
        ErrorCodes.COMMAND_FAILED,
        `could not ${s.why}: ${s.argv.join(' ')} failed: ${toBangerError(err).message}`,
        { cause: err },
      );
    }
  }
}

/** Apply the resolved setup; if any step fails, remove what was written and rethrow. */
export async function applyResolvedSetup(run: Runner, t: Target = {}): Promise<void> {
  const steps = planResolvedSetup(t); // validates before anything runs
  try {
    await runSteps(run, steps);
  } catch (err) {
    try {
      await runSteps(run, planResolvedRemoval());
    } catch {
      /* best effort: the first error is the one to report */
    }
    throw err;
  }
}

/**
 * Where `dns setup --apply` sent the host's lookups of the zone (the drop-in's DNS= line), or
 * null when it is not installed. The file is world-readable.
 */
export function wiredTarget(
  path = process.env.BANGER_RESOLVED_DROPIN || RESOLVED_DROPIN_PATH,
): { address: string; port: number } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const m = /^DNS=\[?([^\]\s]+?)\]?(?::(\d+))?\s*$/m.exec(text);
  return m ? { address: m[1], port: m[2] ? Number(m[2]) : 53 } : null;
}

export async function removeResolvedSetup(run: Runner): Promise<void> {
  await runSteps(run, planResolvedRemoval());
}
