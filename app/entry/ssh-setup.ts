// banger setup ssh [--apply | --remove]: make a plain `ssh NAME.vm` work. banger writes its own
// ssh config (Host *.ZONE as root, banger's key, banger's known_hosts) and one marked Include
// line at the top of ~/.ssh/config (an Include inside a Host block would apply to that host
// only). --remove takes out exactly those lines and that file. Nothing here needs root: the
// host resolver is the other step (banger dns setup).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Paths } from '../base/paths.js';
import { sshKnownHostsFile } from '../base/ssh-known-hosts.js';
import { ensurePrivateDir } from '../base/paths.js';
import { loadConfig } from '../engine/config.js';
import { BangerError, ErrorCodes } from '../base/errors.js';

const MARK = '# banger: ssh NAME.vm (banger setup ssh --remove takes these two lines out)';

export interface SshSetupPaths {
  /** banger's own ssh config, included from ~/.ssh/config. */
  include: string;
  /** The user's ssh config. */
  userConfig: string;
  /** Host keys of *.ZONE guests (accept-new: learnt on first contact). */
  knownHosts: string;
}

/** ssh reads ~/.ssh/config under the passwd entry's home, whatever $HOME says: so do we. */
export function sshSetupPaths(paths: Paths, home = userInfo().homedir): SshSetupPaths {
  return {
    include: join(paths.configDir, 'ssh_config'),
    userConfig: join(home, '.ssh', 'config'),
    knownHosts: sshKnownHostsFile(paths),
  };
}

function quote(p: string): string {
  if (/["\n]/.test(p))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `cannot write a path with " into ssh config: ${p}`);
  return /\s/.test(p) ? `"${p}"` : p;
}

/** banger's ssh config: every host in the zone, as root, with banger's key only. */
export function sshConfigText(paths: Paths, zone: string, sp: SshSetupPaths): string {
  return [
    `# Written by banger setup ssh: ssh NAME.${zone} reaches a banger VM as root with banger's key.`,
    `Host *.${zone}`,
    '  User root',
    `  IdentityFile ${quote(paths.sshKey)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${quote(sp.knownHosts)}`,
    '  StrictHostKeyChecking accept-new',
    // Plain names, so the engine can drop a deleted VM's key (Debian's ssh_config hashes them).
    '  HashKnownHosts no',
    // A VM's address goes to the next VM once it is deleted: check the key by name only.
    '  CheckHostIP no',
    '',
  ].join('\n');
}

function includeLines(sp: SshSetupPaths): string[] {
  return [MARK, `Include ${quote(sp.include)}`];
}

/** The user's config without banger's lines. */
function withoutOurs(text: string, sp: SshSetupPaths): string {
  const ours = new Set(includeLines(sp));
  return text
    .split('\n')
    .filter((l) => !ours.has(l))
    .join('\n')
    .replace(/^\n+/, '');
}

function readOr(p: string): string {
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

export function sshSetup(paths: Paths, mode: 'print' | 'apply' | 'remove', home?: string): string {
  const sp = sshSetupPaths(paths, home);
  let zone = 'vm';
  try {
    zone = loadConfig(paths).dnsZone;
  } catch {
    /* a bad config is reported by the engine; the default zone still helps */
  }
  const body = sshConfigText(paths, zone, sp);
  const current = readOr(sp.userConfig);
  if (mode === 'remove') {
    if (current) writeFileSync(sp.userConfig, withoutOurs(current, sp));
    rmSync(sp.include, { force: true });
    return `removed banger's Include from ${sp.userConfig} and ${sp.include}`;
  }
  if (mode === 'apply') {
    ensurePrivateDir(paths.configDir);
    writeFileSync(sp.include, body, { mode: 0o600 });
    mkdirSync(join(sp.userConfig, '..'), { recursive: true, mode: 0o700 });
    const rest = withoutOurs(current, sp);
    writeFileSync(sp.userConfig, [...includeLines(sp), '', rest].join('\n').trimEnd() + '\n', { mode: 0o600 });
    chmodSync(sp.userConfig, 0o600);
    return [
      `wrote ${sp.include} and an Include at the top of ${sp.userConfig}`,
      `ssh NAME.${zone} now logs in as root with banger's key, once the host resolves *.${zone}:`,
      '  sudo banger dns setup --apply   (banger dns setup prints it for other resolvers)',
    ].join('\n');
  }
  return [
    `# ${sp.include}`,
    body.trimEnd(),
    '',
    `# at the top of ${sp.userConfig}:`,
    ...includeLines(sp),
    '',
    '# banger setup ssh --apply writes both; --remove takes them out again.',
    `# ssh also needs the host to resolve *.${zone}: sudo banger dns setup --apply (see banger dns setup)`,
  ].join('\n');
}
