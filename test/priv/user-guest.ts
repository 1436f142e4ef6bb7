// What a created user needs beside TestUser for a real guest: the .debs (guest-debs.ts) copied
// into their own cache (their builds then run without network, inside their netns), banger
// outside their netns for a debian build, and the CLI as the user for the exec / cp checks.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { collect } from '../helpers/collect.js';
import { reachableMain, reachableRoot } from '../helpers/reachable.js';
import type { Cli } from '../e2e/exec-checks.js';
import type { Result, TestUser } from './user-fixture.js';

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
