// banger dns setup [--apply]: print the exact resolver integration for this host's settings,
// or (as root: sudo banger dns setup --apply) install the systemd-resolved drop-in and restart
// resolved.
import type { ProcessRunner } from '../base/process.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { privDir } from '../base/priv-argv.js';
import { parseHostPort } from '../engine/config.js';
import { loadEngineSettings } from '../engine/network/policy-defaults.js';
import {
  applyResolvedSetup,
  removeResolvedSetup,
  dnsmasqLine,
  planResolvedSetup,
  RESOLVED_DROPIN_PATH,
  RESOLVED_NTA_PATH,
  resolvedDropIn,
  resolvedNegativeAnchor,
} from '../dns/setup.js';
import type { Paths } from '../base/paths.js';

export async function dnsSetup(
  paths: Paths,
  runner: ProcessRunner,
  mode: 'print' | 'apply' | 'remove',
): Promise<string> {
  // The host's resolver is root's, and the entry point has no verb for it (on purpose: it would
  // be a way to write /etc): say so before anything runs, rather than fail half-way in sudo -n.
  if (mode !== 'print' && !runner.isRoot) {
    throw new BangerError(
      ErrorCodes.SUDO_REQUIRED,
      `the host resolver config is root's: run sudo banger dns setup --${mode} (nothing was changed)`,
    );
  }
  const run = (argv: string[], o: { input?: string; privileged?: boolean }) =>
    runner.run(argv, { input: o.input, privileged: o.privileged });
  if (mode === 'remove') {
    await removeResolvedSetup(run);
    return `removed ${RESOLVED_DROPIN_PATH} and ${RESOLVED_NTA_PATH}; systemd-resolved restarted`;
  }
  // The port this user's engine listens on (their policy's, for a normal user): under sudo,
  // that of the user who ran sudo, as root decided it in their policy.
  const cfg = loadEngineSettings(paths).config;
  const { host, port } = sudoUserPort() ?? parseHostPort(cfg.dnsAddr);
  const target = { zone: cfg.dnsZone, address: host, port };
  const plan = planResolvedSetup(target); // validates the settings before anything is printed or run
  if (mode === 'apply') {
    await applyResolvedSetup(run, target);
    return `installed ${RESOLVED_DROPIN_PATH} and ${RESOLVED_NTA_PATH}; systemd-resolved restarted. Try: resolvectl query NAME.${cfg.dnsZone}`;
  }
  return [
    `# systemd-resolved: ${RESOLVED_DROPIN_PATH}`,
    resolvedDropIn(target).trimEnd(),
    '',
    `# DNSSEC: "${cfg.dnsZone}" is unsigned, so add a negative trust anchor: ${RESOLVED_NTA_PATH}`,
    resolvedNegativeAnchor(target).trimEnd(),
    '',
    '# then: systemctl restart systemd-resolved   (banger dns setup --apply does all of this)',
    `#   steps: ${plan.map((s) => s.argv.join(' ')).join(' && ')}`,
    '',
    '# dnsmasq, or NetworkManager with dns=dnsmasq (/etc/NetworkManager/dnsmasq.d/banger.conf):',
    dnsmasqLine(target),
    '',
    `# anything else: dig @${host} -p ${port} NAME.${cfg.dnsZone}`,
    `# never use .local for the zone: it belongs to mDNS`,
  ].join('\n');
}

/** Under `sudo banger dns setup`, the DNS port root's policy gave the invoking user (if any). */
function sudoUserPort(env: NodeJS.ProcessEnv = process.env): { host: string; port: number } | null {
  const user = env.SUDO_USER;
  if (!user || user === 'root' || !/^[a-z_][a-z0-9_-]*[$]?$/i.test(user)) return null;
  try {
    const p = JSON.parse(readFileSync(join(privDir(env), 'users', `${user}.json`), 'utf8')) as { dnsPort?: number };
    return Number.isInteger(p.dnsPort) ? { host: '127.0.0.1', port: p.dnsPort! } : null;
  } catch {
    return null;
  }
}
