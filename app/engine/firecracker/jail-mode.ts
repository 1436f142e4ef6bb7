// Whether a Firecracker VM runs under the jailer, and with what (decided per launch: an entry
// point installed while the engine runs counts at once). As root: the jailer found on PATH
// (jailerBin), run directly, chroots under <stateDir>/jail, each VMM as a uid:gid of its own. As
// a user: only through the privileged entry point's `jailer` verb, with the jailer, the
// Firecracker binary and the chroot base fixed in the user's policy, the VMM as the user.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { which } from '../../base/process.js';
import { installedEntry, privDir } from '../../base/priv-argv.js';
import type { Policy } from '../../priv/root/policy.js';
import type { JailOptions } from './jailer.js';
import { cgroup2Mount, readMounts } from './jail-host.js';

export type JailSetting = 'auto' | 'always' | 'never';

export interface JailChoice {
  /** Everything but the VM id. */
  opts: Omit<JailOptions, 'id'>;
  /** Through the entry point (sudo -n banger-priv jailer ...): a normal user's engine. */
  viaEntry: boolean;
}

export interface JailDecision {
  choice: JailChoice | null;
  /** Why (doctor), or, when `missing`, what to do. */
  reason: string;
  /** firecrackerJailer always, but no jailer can be run: launches fail with reason. */
  missing?: boolean;
}

export interface JailInputs {
  setting: JailSetting;
  jailerBin: string;
  firecrackerBin: string;
  isRoot: boolean;
  stateDir: string;
  env?: Record<string, string | undefined>;
  /** The mount table read for the cgroup2 hierarchy (default /proc/mounts). */
  procMounts?: string;
}

/** cgroup v2 when its hierarchy is mounted (else the jailer fails "Hierarchy not found"); else v1, which with no --cgroup touches nothing. */
function cgroupVersion(i: JailInputs): 1 | 2 {
  return cgroup2Mount(readMounts(i.procMounts)) ? 2 : 1;
}

/**
 * A root engine's jailed VMMs run as a uid:gid of their own per VM (docs/jailer.md: a unique
 * uid/gid per jail), never as root: from a range far above login users and the usual subuid
 * ranges (100000 + 65536 per user). Two VMs could hash to one id: they are still in separate
 * chroots.
 */
export const JAIL_ID_BASE = 900_000_000;
const JAIL_ID_RANGE = 1 << 20;

export function jailIdFor(vmId: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < vmId.length; i++) h = Math.imul(h ^ vmId.charCodeAt(i), 0x01000193) >>> 0;
  return JAIL_ID_BASE + (h % JAIL_ID_RANGE);
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The user's policy as installed (world-readable; root-owned). */
export function readOwnPolicy(env: Record<string, string | undefined> = process.env): Policy | null {
  try {
    const user = userInfo().username;
    return JSON.parse(readFileSync(join(privDir(env), 'users', `${user}.json`), 'utf8')) as Policy;
  } catch {
    return null;
  }
}

function asRoot(i: JailInputs): JailDecision {
  const jailer = which(i.jailerBin);
  const fc = which(i.firecrackerBin);
  if (!jailer || !fc) {
    const what = !jailer
      ? `no jailer "${i.jailerBin}" on PATH (set jailerBin)`
      : `no firecracker "${i.firecrackerBin}"`;
    return { choice: null, reason: what, missing: i.setting === 'always' };
  }
  const opts = {
    jailerBin: real(jailer),
    firecrackerBin: real(fc),
    // Per VM (jailIdFor), set when the VM is planned.
    uid: JAIL_ID_BASE,
    gid: JAIL_ID_BASE,
    chrootBase: join(i.stateDir, 'jail'),
    cgroupVersion: cgroupVersion(i),
  };
  return {
    choice: { opts, viaEntry: false },
    reason: `${opts.jailerBin}, chroots under ${opts.chrootBase}, each VMM as its own uid from ${JAIL_ID_BASE}`,
  };
}

function asUser(i: JailInputs): JailDecision {
  const env = i.env ?? process.env;
  const p = installedEntry(env) ? readOwnPolicy(env) : null;
  if (!p?.jailer || !p.firecracker || !p.jailBase) {
    const fix = 'banger setup sudoers --apply --jailer PATH';
    return {
      choice: null,
      reason: `the entry point allows no jailer for you (${fix})`,
      missing: i.setting === 'always',
    };
  }
  const opts = {
    jailerBin: p.jailer,
    firecrackerBin: p.firecracker,
    uid: process.getuid?.() ?? p.uid,
    gid: process.getgid?.() ?? p.gid,
    chrootBase: p.jailBase,
    cgroupVersion: cgroupVersion(i),
  };
  return {
    choice: { opts, viaEntry: true },
    reason: `${p.jailer} through the entry point, as you, chroots under ${p.jailBase}`,
  };
}

export function decideJail(i: JailInputs): JailDecision {
  if (i.setting === 'never') return { choice: null, reason: 'firecrackerJailer never' };
  return i.isRoot ? asRoot(i) : asUser(i);
}

/** The jailer inputs an engine with these settings reads at each launch. */
export function jailInputsFor(
  cfg: { firecrackerJailer: JailSetting; jailerBin: string; firecrackerBin: string },
  isRoot: boolean,
  stateDir: string,
): () => JailInputs {
  return () => ({
    setting: cfg.firecrackerJailer,
    jailerBin: cfg.jailerBin,
    firecrackerBin: cfg.firecrackerBin,
    isRoot,
    stateDir,
  });
}
