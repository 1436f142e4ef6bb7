// banger dns setup [--apply]: print the exact resolver integration for this host's settings,
// or install the systemd-resolved drop-in (through sudo when not root) and restart resolved.
import type { ProcessRunner } from '../base/process.js';
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
  const run = (argv: string[], o: { input?: string; privileged?: boolean }) =>
    runner.run(argv, { input: o.input, privileged: o.privileged });
  if (mode === 'remove') {
    await removeResolvedSetup(run);
    return `removed ${RESOLVED_DROPIN_PATH} and ${RESOLVED_NTA_PATH}; systemd-resolved restarted`;
  }
  // The port this user's engine listens on (their policy's, for a normal user).
  const cfg = loadEngineSettings(paths).config;
  const { host, port } = parseHostPort(cfg.dnsAddr);
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
