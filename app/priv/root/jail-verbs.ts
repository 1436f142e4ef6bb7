// The entry point's jailer verbs. `jailer` runs Firecracker's jailer (root-owned, fixed in the
// user's policy) with exactly the policy's Firecracker binary, the invoking user's uid and gid
// and the policy's chroot base (root's alone: the jailer mknods and chowns there as root), a
// fresh VM id, banger's cgroup parent, and only the Firecracker flags banger passes, with
// in-jail paths. `jail-rm` removes one of those jails once no process lives in it.
// Installed as root-owned code: node: builtins and ./policy.js, ./vmm-verbs.js, ./fd-*.js only.
import { lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { assertRootOnlyFile, refuse, type Policy } from './policy.js';
import { VM_ID_RE, type VmmAction } from './vmm-verbs.js';
import { at, closeDir, lstatAt, openRootOnly } from './fd-walk.js';
import { removeTreeAt } from './fd-remove.js';

/** An absolute path inside the jail, one plain component (what banger names there). */
const IN_JAIL_RE = /^\/[A-Za-z0-9._-]{1,64}$/;

/** The chroot base and every existing dir above it: root's, not group/other-writable, no symlink. */
function assertRootBase(base: string): void {
  if (!base.startsWith('/') || base.split('/').includes('..')) refuse(`bad chroot base "${base}"`);
  for (let d = base; ; d = dirname(d)) {
    const st = lstatSync(d, { throwIfNoEntry: false });
    if (st && (st.isSymbolicLink() || st.uid !== 0 || (st.mode & 0o022) !== 0))
      refuse(`${d} (the chroot base or above it) must be root's alone`);
    if (d === dirname(d)) return;
  }
}

function jailConfig(p: Policy): { jailer: string; fc: string; base: string } {
  if (!p.jailer || !p.firecracker || !p.jailBase)
    refuse(`no jailer is allowed for ${p.user}: banger setup sudoers --apply --jailer PATH`);
  return { jailer: p.jailer, fc: p.firecracker, base: p.jailBase };
}

/** Firecracker's flags after `--`, as the jailed process sees them (it runs as the user). */
function checkJailedFlags(args: string[]): void {
  const value: Record<string, RegExp> = {
    '--api-sock': IN_JAIL_RE,
    '--log-path': IN_JAIL_RE,
    '--metrics-path': IN_JAIL_RE,
    '--level': /^(Off|Error|Warning|Info|Debug|Trace)$/,
  };
  const switches = ['--show-level', '--show-log-origin', '--boot-timer'];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const f = args[i];
    if (seen.has(f)) refuse(`firecracker flag ${f} given twice`);
    seen.add(f);
    if (switches.includes(f)) continue;
    if (!Object.hasOwn(value, f)) refuse(`firecracker flag not allowed under the jailer: ${JSON.stringify(f)}`);
    const v = args[++i];
    if (v === undefined || !value[f].test(v)) refuse(`bad value for ${f}: ${JSON.stringify(v ?? '')}`);
  }
  if (!seen.has('--api-sock')) refuse('firecracker needs --api-sock');
}

/**
 * The chroot base, made when missing (the jailer canonicalises it and fails without it): root's,
 * 0755 (the user's engine walks down to the jail's root, which the jailer gives the user), and
 * checked again once made.
 */
export function planJailBase(p: Policy): { run: () => void; what: string }[] {
  const { base } = jailConfig(p);
  assertRootBase(base);
  if (lstatSync(base, { throwIfNoEntry: false })) return [];
  return [
    {
      what: `mkdir -m 0755 ${base}`,
      run: () => {
        mkdirSync(base, { recursive: true, mode: 0o755 });
        assertRootBase(base);
      },
    },
  ];
}

/** `jailer JAILER --id ID --exec-file FC --uid U --gid G --chroot-base-dir B [cgroup] -- FLAGS`. */
export function planJailer(p: Policy, args: string[]): VmmAction {
  const c = jailConfig(p);
  const [bin = '', ...rest] = args;
  if (bin !== c.jailer) refuse(`${bin} is not the jailer fixed for ${p.user} (${c.jailer})`);
  const sep = rest.indexOf('--');
  if (sep < 0) refuse('the jailer needs -- before the Firecracker flags');
  const want: Record<string, (v: string) => boolean> = {
    '--id': (v) => VM_ID_RE.test(v),
    '--exec-file': (v) => v === c.fc,
    '--uid': (v) => v === String(p.uid),
    '--gid': (v) => v === String(p.gid),
    '--chroot-base-dir': (v) => v === c.base,
    '--cgroup-version': (v) => v === '1' || v === '2',
    '--parent-cgroup': (v) => v === 'banger',
  };
  const got = new Map<string, string>();
  const own = rest.slice(0, sep);
  for (let i = 0; i < own.length; i += 2) {
    const [f, v] = [own[i], own[i + 1]];
    if (!Object.hasOwn(want, f)) refuse(`jailer flag not allowed: ${JSON.stringify(f)}`);
    if (got.has(f)) refuse(`jailer flag ${f} given twice`);
    if (v === undefined || !want[f](v)) refuse(`jailer ${f} ${JSON.stringify(v ?? '')} is not allowed for ${p.user}`);
    got.set(f, v);
  }
  for (const r of ['--id', '--exec-file', '--uid', '--gid', '--chroot-base-dir'])
    if (!got.has(r)) refuse(`the jailer needs ${r}`);
  checkJailedFlags(rest.slice(sep + 1));
  assertRootOnlyFile(c.jailer, 'jailer');
  assertRootOnlyFile(c.fc, 'firecracker binary');
  if (!basename(c.fc).includes('firecracker')) refuse(`the jailer only runs a binary named *firecracker*: ${c.fc}`);
  assertRootBase(c.base);
  const jail = join(c.base, basename(c.fc), got.get('--id')!);
  // The jailer reuses an existing jail (and chowns it to the caller): only a fresh one.
  if (lstatSync(jail, { throwIfNoEntry: false })) refuse(`${jail} exists (a stale jail: remove it first)`);
  const fcArgs = rest.slice(sep + 1);
  const ready = join(jail, 'root', fcArgs[fcArgs.indexOf('--api-sock') + 1]);
  return { vmm: [bin, ...rest], ready, what: `${bin} for ${p.user}` };
}

/**
 * Is a process rooted in this jail (a jailed VMM still alive)? The jailer pivots into
 * <dir>/root in a mount namespace of its own, so /proc/PID/root reads "/" from here: compare
 * st_dev/st_ino of /proc/PID/root/ with the jail's root dir.
 */
function inUse(jailRoot: string): number | null {
  const root = statSync(jailRoot, { throwIfNoEntry: false });
  if (!root) return null;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = statSync(`/proc/${e}/root/`);
      if (st.dev === root.dev && st.ino === root.ino) return Number(e);
    } catch {
      /* gone */
    }
  }
  return null;
}

/** `jail-rm DIR`: DIR must be <jailBase>/<firecracker name>/<id> of this user's policy. */
export function planJailRm(p: Policy, dir: string): { run: () => void; what: string } {
  const c = jailConfig(p);
  const id = basename(dir);
  if (!VM_ID_RE.test(id) || dir !== join(c.base, basename(c.fc), id)) refuse(`${dir} is not one of ${p.user}'s jails`);
  // Held from here on: the removal works below these descriptors, never by the path again.
  const parent = openRootOnly(dirname(dir));
  try {
    const st = lstatAt(parent, id);
    if (st && (!st.isDirectory() || st.uid !== 0)) refuse(`${dir} is not a jail the jailer made`);
    // The jail's root dir, through the held base (the jail dir is root's: no swap there).
    const pid = st ? inUse(`${at(parent.fd, id)}/root`) : null;
    if (pid !== null) refuse(`${dir} is in use by process ${pid}`);
  } catch (err) {
    closeDir(parent);
    throw err;
  }
  return {
    what: `rm -rf ${dir}`,
    run: () => {
      try {
        removeTreeAt(parent, id);
      } finally {
        closeDir(parent);
      }
    },
  };
}
