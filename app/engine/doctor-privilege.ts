// banger doctor's privilege check: root needs nothing; a normal user needs the entry point
// installed, current, allowing this config's bridge and subnet, and a sudoers rule for it.
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { DoctorCheck } from '../contract/api.js';
import type { Config } from './config.js';
import { which, type ProcessRunner } from '../base/process.js';
import { firecrackerViaSudo } from './firecracker/privilege.js';
import type { JailDecision } from './firecracker/jail-mode.js';
import { formatCidr, parseCidr } from './network/cidr.js';
import { toBangerError } from '../base/errors.js';
import { entryPath, installedEntry, privDir } from '../base/priv-argv.js';
import { sourceStamp } from '../base/priv-sources.js';
import type { Policy } from '../priv/root/policy.js';

const FIX = 'run: banger setup sudoers --apply';
const NAME = 'privileges';

/** The installed entry point was made from other sources than this banger's (or before stamps). */
function outdated(env: Record<string, string | undefined>): boolean {
  let want: string;
  try {
    want = sourceStamp();
  } catch {
    return false; // no sources to compare with here: not a reason to fail the check
  }
  try {
    return readFileSync(join(privDir(env), 'lib', 'source.sha256'), 'utf8').trim() !== want;
  } catch {
    return true;
  }
}

function policyMismatch(cfg: Config, env: Record<string, string | undefined>): string | null {
  const user = env.USER || env.LOGNAME || '';
  let p: Policy;
  try {
    p = JSON.parse(readFileSync(join(privDir(env), 'users', `${user}.json`), 'utf8')) as Policy;
  } catch {
    return `no policy for ${user || 'this user'}`;
  }
  const subnet = formatCidr(parseCidr(cfg.subnet));
  if (!p.bridges.includes(cfg.bridge) || !p.subnets.includes(subnet))
    return `it allows bridge ${p.bridges.join(',')} subnet ${p.subnets.join(',')}, the config has ${cfg.bridge} ${subnet}`;
  return null;
}

export async function privilegeCheck(
  runner: ProcessRunner,
  cfg: Config,
  env: Record<string, string | undefined> = process.env,
): Promise<DoctorCheck> {
  if (runner.isRoot) return { name: NAME, ok: true, detail: 'running as root: host changes need no sudo' };
  if (cfg.network === 'none')
    return { name: NAME, ok: true, detail: 'network none: VMs need no privileged host changes' };
  const entry = installedEntry(env);
  if (!entry)
    return { name: NAME, ok: false, detail: `the privileged entry point ${entryPath(env)} is not installed: ${FIX}` };
  const mismatch = policyMismatch(cfg, env);
  if (mismatch) return { name: NAME, ok: false, detail: `${entry}: ${mismatch}: ${FIX}` };
  if (outdated(env)) return { name: NAME, ok: false, detail: `${entry} is older than this banger: ${FIX}` };
  try {
    await runner.checkPrivileged?.();
  } catch (err) {
    return { name: NAME, ok: false, detail: `${toBangerError(err).message.replace(/: run `.*$/, '')}: ${FIX}` };
  }
  return { name: NAME, ok: true, detail: `${entry} through sudo (sudoers rule in place)` };
}

function readPolicy(env: Record<string, string | undefined>): Policy | null {
  const user = env.USER || env.LOGNAME || '';
  try {
    return JSON.parse(readFileSync(join(privDir(env), 'users', `${user}.json`), 'utf8')) as Policy;
  } catch {
    return null;
  }
}

/** How Firecracker will be launched for this user (jailed, as them, or as root), and whether that can work. */
export function firecrackerLaunchCheck(
  isRoot: boolean,
  cfg: Config,
  env: Record<string, string | undefined> = process.env,
  jail?: JailDecision,
): DoctorCheck {
  const name = 'firecracker launch';
  if (jail?.choice) return { name, ok: true, detail: `under the jailer: ${jail.reason}` };
  if (jail?.missing) return { name, ok: false, detail: `firecrackerJailer always, but ${jail.reason}` };
  const noJail = jail && cfg.firecrackerJailer !== 'never' ? ` (no jailer: ${jail.reason})` : '';
  if (isRoot) return { name, ok: true, detail: `as root, directly${noJail}` };
  if (!firecrackerViaSudo(cfg.firecrackerSudo, false, cfg.kvmPath))
    return { name, ok: true, detail: `as you, no sudo (firecrackerSudo ${cfg.firecrackerSudo})${noJail}` };
  const bin = which(cfg.firecrackerBin);
  let real = bin;
  try {
    real = bin && realpathSync(bin);
  } catch {
    /* reported by the backend check */
  }
  const fixed = readPolicy(env)?.firecracker;
  const why = `firecrackerSudo ${cfg.firecrackerSudo}${cfg.firecrackerSudo === 'auto' ? `: ${cfg.kvmPath} is not read/write for you` : ''}`;
  if (!fixed || fixed !== real)
    return {
      name,
      ok: false,
      detail: `needs sudo (${why}) but the entry point allows ${fixed ? `only ${fixed}` : 'no Firecracker binary'}: join the kvm group (no sudo at all), or run: banger setup sudoers --apply --jailer PATH (jailed, as you), or --firecracker ${real ?? 'PATH'} (as root)`,
    };
  return {
    name,
    ok: true,
    detail: `as root through the entry point (${why}): ${fixed}; the API socket makes that root-equivalent for you, the kvm group or --jailer avoid it`,
  };
}

/** VMMs running as the user open their TAP through /dev/net/tun: stock Debian makes it 0666. */
export function tunCheck(isRoot: boolean, tun = '/dev/net/tun'): DoctorCheck {
  const name = tun;
  if (!existsSync(tun)) return { name, ok: false, detail: `${tun} does not exist (modprobe tun): VMs get no network` };
  if (isRoot) return { name, ok: true, detail: `${tun} (root)` };
  try {
    accessSync(tun, constants.R_OK | constants.W_OK);
    return { name, ok: true, detail: `${tun} is readable and writable (VMMs attach their TAP as this user)` };
  } catch {
    return {
      name,
      ok: false,
      detail: `${tun} is not read/write for this user, so a VMM running as you cannot attach its TAP (stock Debian has it 0666: chmod 0666 ${tun}, or a udev rule)`,
    };
  }
}
