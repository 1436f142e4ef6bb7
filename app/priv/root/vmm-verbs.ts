// The entry point's VMM verb: the Firecracker sudo fallback. It runs as root only the one
// Firecracker binary fixed in the user's policy at install time (root-owned, in root-only
// dirs), with only the flags banger's launcher passes, each checked: the API socket a new
// path inside the user's banger dirs, the id banger's id rule, the log an existing regular
// file of the user's. Installed as root-owned code: node: builtins and ./policy.js only.
import { assertRootOnlyFile, refuse, type Policy } from './policy.js';
import { closeDir, lstatAt, userDirOf } from './fd-walk.js';

/** A long-running program the entry point starts and waits for (stdio passed through). */
export interface VmmAction {
  vmm: string[];
  /** The API socket it makes: once it exists, the entry point leaves the VMM running and exits. */
  ready: string;
  what: string;
}

/** Firecracker's and the jailer's id rule: letters, digits and hyphens, at most 64. */
export const VM_ID_RE = /^[A-Za-z0-9-]{1,64}$/;
const LEVELS = ['Off', 'Error', 'Warning', 'Info', 'Debug', 'Trace'];

type Check = ((p: Policy, v: string) => void) | null;

/** Checked by descriptor; the root VMM then opens the path itself (it is root-equivalent anyway: see install.ts). */
function inUserDir<T>(p: Policy, v: string, fn: (st: ReturnType<typeof lstatAt>) => T): T {
  const { dir, name } = userDirOf(p, v);
  try {
    return fn(lstatAt(dir, name));
  } finally {
    closeDir(dir);
  }
}

function newSocket(p: Policy, v: string): void {
  if (inUserDir(p, v, (st) => st)) refuse(`${v} already exists`);
}

/** Root opens it for writing: a regular file of the user's, never a symlink or a second link. */
function ownFile(p: Policy, v: string): void {
  const st = inUserDir(p, v, (s) => s);
  if (!st?.isFile() || st.uid !== p.uid || st.nlink !== 1)
    refuse(`${v} must be an existing regular file of ${p.user}'s (not a link)`);
}

/** The flags banger's launcher passes (driver.ts), and nothing else: value check or a switch. */
const FLAGS: Record<string, Check> = {
  '--api-sock': newSocket,
  '--id': (_p, v) => {
    if (!VM_ID_RE.test(v)) refuse(`bad VM id "${v}" (1-64 letters, digits, hyphens)`);
  },
  '--log-path': ownFile,
  '--metrics-path': ownFile,
  '--level': (_p, v) => {
    if (!LEVELS.includes(v)) refuse(`bad log level "${v}" (${LEVELS.join(', ')})`);
  },
  '--show-level': null,
  '--show-log-origin': null,
  '--boot-timer': null,
};
const REQUIRED = ['--api-sock', '--id'];

/** Every flag known, each once, values checked; the required ones present. */
export function checkVmmFlags(p: Policy, args: string[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (!Object.hasOwn(FLAGS, flag)) refuse(`firecracker flag not allowed: ${JSON.stringify(flag)}`);
    if (seen.has(flag)) refuse(`firecracker flag ${flag} given twice`);
    seen.add(flag);
    const check = FLAGS[flag];
    if (!check) continue;
    const v = args[++i];
    if (v === undefined) refuse(`firecracker flag ${flag} needs a value`);
    check(p, v);
  }
  for (const r of REQUIRED) if (!seen.has(r)) refuse(`firecracker needs ${r}`);
}

/** `firecracker BIN FLAGS...`: BIN must be the policy's binary, exactly. */
export function planFirecracker(p: Policy, args: string[]): VmmAction {
  const [bin = '', ...flags] = args;
  if (!p.firecracker)
    refuse(`no Firecracker binary is allowed for ${p.user}: banger setup sudoers --apply --firecracker PATH`);
  if (p.jailer) refuse(`${p.user}'s Firecracker runs under the jailer only (the jailer verb), never as root`);
  if (bin !== p.firecracker) refuse(`${bin} is not the Firecracker binary fixed for ${p.user} (${p.firecracker})`);
  assertRootOnlyFile(bin, 'firecracker binary');
  checkVmmFlags(p, flags);
  return { vmm: [bin, ...flags], ready: flags[flags.indexOf('--api-sock') + 1], what: `${bin} as root` };
}
