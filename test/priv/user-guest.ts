// What a created user needs to boot a real QEMU guest offline: the .debs of the busybox image
// and the Debian kernel, downloaded once by root into the test cache and copied into the
// user's own cache (their builds then run without network, inside their netns); the CLI as
// the user for the vm exec / vm cp checks.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN } from '../service/helpers.js';
import { testCacheDir } from '../helpers/cache.js';
import { collect } from '../helpers/collect.js';
import { reachableMain, reachableRoot } from '../helpers/reachable.js';
import type { Cli } from '../e2e/exec-checks.js';
import type { Result, TestUser } from './user-fixture.js';

const PACKAGES = ['busybox-static', 'dropbear-bin', 'libtomcrypt1', 'libtommath1', 'linux-image-'];

function cachedDebs(): string[] {
  const dir = join(testCacheDir(), 'debs');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : [];
  return PACKAGES.every((p) => files.some((f) => f.startsWith(p))) ? files.map((f) => join(dir, f)) : [];
}

/** The .debs the builds need, downloaded once by root in the root namespace (as test/e2e does). */
export function fillDebCache(): string[] {
  if (cachedDebs().length) return cachedDebs();
  const root = mkdtempSync('/tmp/bgt-cache-');
  const env = {
    ...process.env,
    BANGER_STATE_DIR: join(root, 'state'),
    BANGER_CONFIG_DIR: join(root, 'config'),
    BANGER_RUNTIME_DIR: join(root, 'run'),
    BANGER_CACHE_DIR: testCacheDir(),
    BANGER_NETWORK: 'none',
    BANGER_DNS_ADDR: '127.0.0.1:0',
    BANGER_BUILD_ID: `priv-cache-${process.pid}`,
  };
  const banger = (args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: 'ignore', timeout: 600_000 });
  try {
    banger(['image', 'build', 'bb', '--from', 'busybox']);
    banger(['kernel', 'fetch', 'deb']);
    banger(['engine', 'stop']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return cachedDebs();
}

/** The user's own cache holds the .debs: their image build and kernel fetch run offline. */
export function giveDebs(u: TestUser, debs: string[]): void {
  const cache = join(u.home, '.cache', 'banger');
  const install = (args: string[]) => execFileSync('install', ['-o', u.user, '-g', u.user, ...args]);
  install(['-d', '-m', '0700', join(u.home, '.cache'), cache, join(cache, 'debs')]);
  install(['-m', '0644', '-t', join(cache, 'debs'), ...debs]);
}

/**
 * `banger ARGS` as the user in the root namespace, for what needs the internet (a debian
 * build's debootstrap, which root runs through the entry point from where the engine is). Only
 * with the user's network set to none: nothing of a guest's network is made here.
 */
export function bangerOutsideNs(u: TestUser, args: string[], timeoutMs: number): Promise<Result> {
  const argv = ['runuser', '-u', u.user, '--', 'env', '-i', ...u.userEnv(), process.execPath, '--import', 'tsx'];
  return collect([...argv, reachableMain(), ...args], { cwd: reachableRoot(), timeoutMs });
}

/** vm exec / vm cp checks' view of the CLI as u, against vm; local files in a dir u owns. */
export function userCli(u: TestUser, vm: string, figures: string[]): Cli {
  const work = join(u.scratch, 'work');
  execFileSync('install', ['-d', '-o', u.user, '-g', u.user, '-m', '0755', work]);
  const node = [process.execPath, '--import', 'tsx', reachableMain()];
  return {
    vm,
    b: (args, timeoutMs = 60_000, input) => u.asUser([...node, ...args], { timeoutMs, input }),
    sh: (script, timeoutMs = 120_000) =>
      u.asUser(['sh', '-c', script.replaceAll('BANGER', node.join(' '))], { timeoutMs }),
    work,
    own: async (path) => void execFileSync('chown', ['-R', `${u.user}:${u.user}`, path]),
    figures,
  };
}
