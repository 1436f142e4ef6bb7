// What a real jailer needs of the host (src/jailer/src/{env,cgroup,chroot}.rs), read from
// /proc/mounts and the cgroup tree: the cgroup2 hierarchy it looks for, the parent cgroup it
// moves itself into, and a chroot base on a filesystem where the device nodes it makes can be
// opened (not mounted nodev). Pure over the texts given, plus stat/read of the paths named.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DoctorCheck } from '../../contract/api.js';

export interface MountEntry {
  dir: string;
  type: string;
  options: string[];
}

/** /proc/mounts lines, with the octal escapes (\040 for a space) undone. */
export function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4)
    .map((f) => ({ dir: unescape(f[1]), type: f[2], options: f[3].split(',') }));
}

export function readMounts(path = '/proc/mounts'): MountEntry[] {
  try {
    return parseMounts(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/** Where the cgroup2 hierarchy is mounted (the jailer takes the first cgroup2 line), or null. */
export function cgroup2Mount(mounts: MountEntry[]): string | null {
  return mounts.find((m) => m.type === 'cgroup2')?.dir ?? null;
}

/** The mount a path lives on: the longest mount point above its nearest existing ancestor. */
export function mountOf(path: string, mounts: MountEntry[]): MountEntry | null {
  let p = path;
  while (!existsSync(p) && p !== dirname(p)) p = dirname(p);
  let real = p;
  try {
    real = realpathSync(p);
  } catch {
    /* keep p */
  }
  let best: MountEntry | null = null;
  for (const m of mounts) {
    const under = m.dir === '/' || real === m.dir || real.startsWith(m.dir + '/');
    if (under && (!best || m.dir.length >= best.dir.length)) best = m;
  }
  return best;
}

/**
 * The jailer with --cgroup-version 2 and no --cgroup (1.6 and later) moves itself into
 * <cgroup2>/<parent> when that exists; a cgroup with controllers enabled for its children
 * takes no process (EBUSY), so the launch fails. Null when fine.
 */
export function parentCgroupProblem(cg2: string, parent: string): string | null {
  const dir = join(cg2, parent);
  if (!existsSync(dir)) return null;
  let subtree = '';
  try {
    subtree = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').trim();
  } catch {
    return null;
  }
  return subtree
    ? `${dir} enables controllers for its children (${subtree}): the jailer cannot move the VMM into it (EBUSY); disable them or remove that cgroup`
    : null;
}

/** doctor's checks for a jailed launch: the cgroup hierarchy and parent, and the chroot base. */
export function jailHostChecks(base: string, parentCgroup: string, mounts: MountEntry[]): DoctorCheck[] {
  const cg2 = cgroup2Mount(mounts);
  const parentIssue = cg2 ? parentCgroupProblem(cg2, parentCgroup) : null;
  const cgroups: DoctorCheck = {
    name: 'jailer cgroups',
    ok: !parentIssue,
    detail:
      parentIssue ??
      (cg2
        ? `cgroup2 at ${cg2}: --cgroup-version 2 (VMMs join ${join(cg2, parentCgroup)} when an admin made it)`
        : 'no cgroup2 hierarchy mounted: --cgroup-version 1 with no --cgroup (the jailer leaves cgroups alone)'),
  };
  const m = mountOf(base, mounts);
  const made = existsSync(base);
  const nodev = !!m?.options.includes('nodev');
  const baseCheck: DoctorCheck = {
    name: 'jail base',
    ok: !nodev,
    detail: nodev
      ? `${base} is on ${m!.dir}, mounted nodev: the /dev/kvm and /dev/net/tun the jailer makes there cannot be opened; use a base on a filesystem without nodev`
      : `${base}${made ? '' : ' (made at the first jailed start)'} on ${m?.dir ?? '?'}, without nodev`,
  };
  return [cgroups, baseCheck];
}
