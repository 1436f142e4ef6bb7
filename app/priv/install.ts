// `banger setup sudoers`: the privileged entry point (root-owned copies of app/priv/root,
// compiled to CommonJS), the user's policy (bridge, subnet, banger dirs, fixed now by root)
// and a sudoers drop-in naming only the entry point, validated with visudo -c.
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ProcessRunner } from '../base/process.js';
import { loadConfig, loadConfigWithSources } from '../engine/config.js';
import { resolvePaths } from '../base/paths.js';
import { decideNetwork, defaultBridge, hostTaken, type NetworkChoice } from './policy-network.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { ENTRY_NAME, privDir } from '../base/priv-argv.js';
import { builtRootDir, LEGACY_ROOT_FILES, ROOT_FILES, rootSourceDir, sourceStamp } from '../base/priv-sources.js';
import { which, withSbin } from '../base/process.js';
import type { Policy } from './root/policy.js';

export const SUDOERS_DIR = '/etc/sudoers.d';
/** Where the entry point records each user's ip_forward before their banger turned it on (root/forward-verb.ts). */
const FORWARD_DIR = 'forward';

export interface Target {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

export function dropInPath(user: string): string {
  return join(SUDOERS_DIR, `banger-${user}`);
}

/** Only the entry point, any arguments: it checks them itself. No other program is reachable. */
export function dropInText(user: string, entry: string): string {
  return `# Written by banger setup sudoers: ${user} may run banger's privileged entry point, and nothing else, without a password.\n${user} ALL=(root) NOPASSWD: ${entry}\n`;
}

export async function lookupUser(runner: ProcessRunner, name: string): Promise<Target> {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `bad user name "${name}" (sudoers.d needs [a-z0-9_-])`);
  const r = await runner.run(['getent', 'passwd', name], { reject: false });
  const f = r.stdout.trim().split(':');
  if (r.exitCode !== 0 || f.length < 7) throw new BangerError(ErrorCodes.NOT_FOUND, `no such user: ${name}`);
  if (Number(f[2]) === 0)
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${name} is root: root needs no sudoers rule`);
  return { user: name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

/** The user's environment as seen from apply: another user's dirs follow their home, not ours. */
function envOf(t: Target, env: Record<string, string | undefined>, self: boolean): Record<string, string | undefined> {
  return self
    ? env
    : { ...env, HOME: t.home, XDG_STATE_HOME: '', XDG_CACHE_HOME: '', XDG_CONFIG_HOME: '', XDG_RUNTIME_DIR: '' };
}

/**
 * The user's banger dirs and binaries, and the network root chose for them (decideNetwork:
 * validated, never copied as is from their config).
 */
export function policyFor(
  t: Target,
  env: Record<string, string | undefined>,
  self: boolean,
  bins: SetupBins = {},
  net: NetworkChoice = { bridge: defaultBridge(t.uid), subnet: '', dnsPort: 0 },
): Policy {
  const userEnv = envOf(t, env, self);
  const paths = resolvePaths(userEnv);
  const cfg = loadConfig(paths, userEnv);
  const dirs = [paths.stateDir, paths.cacheDir, `/run/user/${t.uid}/banger`, `/tmp/banger-${t.uid}`];
  if (userEnv.BANGER_RUNTIME_DIR) dirs.push(paths.runtimeDir);
  const policy: Policy = {
    user: t.user,
    uid: t.uid,
    gid: t.gid,
    bridges: [net.bridge],
    subnets: net.subnet ? [net.subnet] : [],
    dirs: [...new Set(dirs)],
    ...(net.dnsPort ? { dnsPort: net.dnsPort } : {}),
  };
  if (bins.firecracker) policy.firecracker = rootOnlyBinary(bins.firecracker, '--firecracker');
  if (bins.jailer) {
    policy.jailer = rootOnlyBinary(bins.jailer, '--jailer');
    // The jail's Firecracker: --firecracker, else the configured one (it must be root's too).
    const fc = bins.firecracker ?? which(cfg.firecrackerBin, withSbin(userEnv.PATH)) ?? cfg.firecrackerBin;
    policy.firecracker = rootOnlyBinary(fc, '--firecracker');
    if (!basename(policy.firecracker).includes('firecracker'))
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `the jailer only runs a binary named *firecracker*: ${fc}`);
    policy.jailBase = rootOnlyBase(bins.jailBase ?? `/srv/jailer/banger-${t.user}`);
  }
  return policy;
}

/** Root's choice of the user's bridge, subnet and DNS port (see policy-network.ts). */
export async function networkFor(
  runner: ProcessRunner,
  t: Target,
  env: Record<string, string | undefined>,
  self: boolean,
): Promise<NetworkChoice> {
  const userEnv = envOf(t, env, self);
  const paths = resolvePaths(userEnv);
  const { config, sources } = loadConfigWithSources(paths, userEnv);
  const explicit = {
    ...(sources.bridge ? { bridge: config.bridge } : {}),
    ...(sources.subnet ? { subnet: config.subnet } : {}),
  };
  const bridge = explicit.bridge ?? defaultBridge(t.uid);
  const taken = await hostTaken(runner, privDir(env), t.user, bridge);
  return decideNetwork(t.uid, explicit, paths.configFile, taken);
}

/** The jail base: absolute, and every part of it that exists root's alone (root mknods there). */
function rootOnlyBase(base: string): string {
  if (!base.startsWith('/') || base.split('/').includes('..'))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `--jail-base ${base}: an absolute, normal path`);
  for (let d = base; ; d = dirname(d)) {
    const st = lstatSync(d, { throwIfNoEntry: false });
    if (st && (st.isSymbolicLink() || st.uid !== 0 || (st.mode & 0o022) !== 0))
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `--jail-base ${base}: ${d} is not root's alone`);
    if (d === dirname(d)) return base;
  }
}

/** The entry point's files (relative path -> content): the root modules in CommonJS for root's node. */
export function entryFiles(node = process.execPath, built = builtRootDir()): Map<string, string> {
  const files = new Map<string, string>();
  const stamp = sourceStamp();
  for (const [f, js] of compiledRootFiles(stamp, built)) files.set(`lib/${f}.js`, js);
  files.set('lib/source.sha256', `${stamp}\n`);
  files.set('lib/package.json', '{ "type": "commonjs" }\n');
  files.set('package.json', '{ "type": "commonjs" }\n');
  files.set(
    ENTRY_NAME,
    `#!${node}\n// banger's privileged entry point (banger setup sudoers --apply). Root-owned: do not edit.\n'use strict';\nrequire('./lib/main.js').main(__dirname, process.argv.slice(2));\n`,
  );
  return files;
}

/** As scripts/build-priv-root.mjs compiles them (test/priv/install-files.test.ts compares). */
const ROOT_TRANSFORM = { loader: 'ts', format: 'cjs', target: 'node20', legalComments: 'inline' } as const;

/**
 * The build's copies (dist/priv-root) when they were made from these sources; else, in a
 * checkout edited since its build, compiled now with esbuild (a development dependency).
 */
function compiledRootFiles(stamp: string, built: string): Map<string, string> {
  const out = new Map<string, string>();
  const builtStamp = join(built, 'source.sha256');
  if (existsSync(builtStamp) && readFileSync(builtStamp, 'utf8').trim() === stamp) {
    for (const f of ROOT_FILES) out.set(f, readFileSync(join(built, `${f}.js`), 'utf8'));
    return out;
  }
  let esbuild: typeof import('esbuild');
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch {
    throw new BangerError(
      ErrorCodes.NOT_FOUND,
      `the privileged entry point in ${built} was not built from these sources: run npm run build`,
    );
  }
  const src = rootSourceDir();
  for (const f of ROOT_FILES)
    out.set(f, esbuild.transformSync(readFileSync(join(src, `${f}.ts`), 'utf8'), ROOT_TRANSFORM).code);
  return out;
}

/** node runs as root here: it and every dir above it must be root's alone. */
export function assertRootOnlyChain(path: string): void {
  for (let p = path; ; p = dirname(p)) {
    const st = statSync(p);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `${p} is not root-only (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): the entry point would run it as root; install Node.js system-wide (e.g. /usr/bin/node)`,
      );
    }
    if (p === dirname(p)) return;
  }
}

export interface SetupPlan {
  target: Target;
  dir: string;
  entry: string;
  policy: Policy;
  dropIn: string;
  dropInText: string;
}

/** What the user's policy may name: banger setup sudoers --firecracker / --jailer / --jail-base. */
export interface SetupBins {
  firecracker?: string;
  jailer?: string;
  jailBase?: string;
}

/** A binary root will run for the user: its real path, root's alone all the way up. */
export function rootOnlyBinary(path: string, flag: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new BangerError(ErrorCodes.NOT_FOUND, `${flag} ${path}: no such file`);
  }
  if (!statSync(real).isFile()) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${flag} ${path}: not a file`);
  assertRootOnlyChain(real);
  return real;
}

export async function planSetup(
  runner: ProcessRunner,
  user: string | undefined,
  env: Record<string, string | undefined> = process.env,
  bins: SetupBins = {},
  o: { network?: boolean } = {},
): Promise<SetupPlan> {
  const self = user === undefined;
  const name = user ?? (runner.isRoot ? env.SUDO_USER : env.USER || env.LOGNAME);
  if (!name || (self && runner.isRoot && !env.SUDO_USER))
    throw new BangerError(ErrorCodes.USAGE, 'as root, name the user who runs banger: banger setup sudoers --user NAME');
  const target = await lookupUser(runner, name);
  const dir = privDir(env);
  const entry = join(dir, ENTRY_NAME);
  const own = self && !runner.isRoot;
  // --remove needs no network (and a hostile config must not block it).
  const net = o.network === false ? undefined : await networkFor(runner, target, env, own);
  const policy = policyFor(target, env, own, bins, net);
  return { target, dir, entry, policy, dropIn: dropInPath(target.user), dropInText: dropInText(target.user, entry) };
}

export function describePlan(p: SetupPlan): string {
  return [
    `# banger's privileged entry point: ${p.entry} (root-owned; the only program the rule below reaches)`,
    `# ${p.target.user}'s policy, fixed now: ${join(p.dir, 'users', `${p.target.user}.json`)}`,
    `# bridge, subnet and DNS port: root's choice now (a bridge/subnet set in ${p.target.user}'s config is checked, else`,
    '# derived from the uid, clear of host routes and other users); their engine reads it back from this file',
    JSON.stringify(p.policy, null, 2),
    ...(p.policy.jailer
      ? [
          `# --jailer: ${p.target.user}'s Firecracker runs under ${p.policy.jailer} as ${p.target.user}, chrooted under`,
          `# ${p.policy.jailBase} (root's; the VM disks must be on its filesystem: they are hard-linked in). No root VMM.`,
          `# Each jail holds a /dev/kvm node owned by ${p.target.user}: KVM access, as the kvm group would give.`,
        ]
      : p.policy.firecracker
        ? [
            `# --firecracker: ${p.target.user}'s engine may run ${p.policy.firecracker} as root (the sudo fallback when /dev/kvm`,
            '# is not theirs). Its API socket is handed to them, and a root VMM opens what the API names: that is',
            '# root-equivalent for them. Prefer the kvm group (no sudo at all).',
          ]
        : []),
    '',
    `# sudoers drop-in: ${p.dropIn} (validated with visudo -c)`,
    p.dropInText.trimEnd(),
    '',
    '# install both: banger setup sudoers --apply   (undo: banger setup sudoers --remove)',
    '# re-run --apply after changing the bridge or subnet, or after upgrading banger',
  ].join('\n');
}

type Exec = (argv: string[]) => Promise<void>;

/** Run as root directly, else through sudo (which may ask for the password once). */
export function rootExec(runner: ProcessRunner): Exec {
  return async (argv) => {
    await runner.run(runner.isRoot ? argv : ['sudo', '--', ...argv], { timeoutMs: 120_000 });
  };
}

function stage(p: SetupPlan): string {
  const dir = mkdtempSync(join(tmpdir(), 'banger-sudoers-'));
  for (const [rel, content] of entryFiles()) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  mkdirSync(join(dir, 'users'));
  writeFileSync(join(dir, 'users', `${p.target.user}.json`), JSON.stringify(p.policy, null, 2) + '\n');
  writeFileSync(join(dir, 'sudoers'), p.dropInText);
  return dir;
}

export async function applySetup(p: SetupPlan, exec: Exec): Promise<void> {
  assertRootOnlyChain(process.execPath);
  const s = stage(p);
  const own = ['-o', 'root', '-g', 'root'];
  try {
    await exec(['visudo', '-c', '-q', '-f', join(s, 'sudoers')]);
    await exec(['install', '-d', ...own, '-m', '0755', p.dir, join(p.dir, 'lib'), join(p.dir, 'users')]);
    const lib = [...entryFiles().keys()].filter((k) => k.startsWith('lib/')).map((k) => join(s, k));
    await exec(['install', ...own, '-m', '0644', '-t', join(p.dir, 'lib'), ...lib]);
    await exec(['install', ...own, '-m', '0644', join(s, 'package.json'), join(p.dir, 'package.json')]);
    await exec(['install', ...own, '-m', '0644', join(s, 'users', `${p.target.user}.json`), join(p.dir, 'users')]);
    await exec(['install', ...own, '-m', '0755', join(s, ENTRY_NAME), p.entry]);
    await exec(['install', ...own, '-m', '0440', join(s, 'sudoers'), p.dropIn]);
    try {
      await exec(['visudo', '-c', '-q']);
    } catch (err) {
      await exec(['rm', '-f', '--', p.dropIn]).catch(() => undefined);
      throw err;
    }
  } finally {
    rmSync(s, { recursive: true, force: true });
  }
}

/** Undo applySetup for this user; the entry point goes with the last user's policy. */
export async function removeSetup(p: SetupPlan, exec: Exec): Promise<string[]> {
  const policy = join(p.dir, 'users', `${p.target.user}.json`);
  // The user's ip_forward record goes too: forwarding then stays as it is (on, if banger set it).
  await exec(['rm', '-f', '--', p.dropIn, policy, join(p.dir, FORWARD_DIR, p.target.user)]);
  const removed = [p.dropIn, policy];
  let others: string[] = [];
  try {
    others = readdirSync(join(p.dir, 'users'));
  } catch {
    /* no users dir: nothing else installed */
  }
  if (others.length === 0) {
    const legacy = LEGACY_ROOT_FILES.map((f) => `lib/${f}.js`);
    const files = [...entryFiles().keys(), ...legacy].map((k) => join(p.dir, k));
    await exec(['rm', '-f', '--', ...files]);
    await exec([
      'rmdir',
      '--ignore-fail-on-non-empty',
      join(p.dir, 'lib'),
      join(p.dir, 'users'),
      join(p.dir, FORWARD_DIR),
      p.dir,
    ]).catch(() => undefined);
    removed.push(p.entry);
  }
  return removed;
}
