// Races against the entry point, run as an attacker with a local account would: the test
// user swaps two of their own paths (a directory and a symlink to a root-only place) with
// renameat2(RENAME_EXCHANGE) in a tight loop (python3's ctypes; coreutils here has no
// `mv --exchange`) while the same user calls a verb over and over through sudo.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect, type Collected } from '../helpers/collect.js';
import type { TestUser } from './user-fixture.js';

const EXCHANGER = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b, stop = (s.encode() for s in sys.argv[1:4])
swaps = 0
while True:
    for _ in range(2000):
        if libc.renameat2(-100, a, -100, b, 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
            swaps += 1
    if os.path.exists(stop):
        break
print(swaps)
`;

export interface Exchanger {
  /** Stops the loop; resolves to the number of swaps it made. */
  stop(): Promise<number>;
}

/** Start the user's exchange loop on a and b (both theirs). */
export function startExchanger(u: TestUser, a: string, b: string): Exchanger {
  const script = join(u.scratch, 'exchange.py');
  writeFileSync(script, EXCHANGER);
  chmodSync(script, 0o644);
  const stopFile = join(u.scratch, `stop-${Date.now()}`);
  const run = u.asUser(['python3', script, a, b, stopFile], { timeoutMs: 15 * 60_000 });
  return {
    async stop() {
      writeFileSync(stopFile, '');
      const r = await run;
      if (r.code !== 0) throw new Error(`exchanger: exit ${r.code}: ${r.stderr}`);
      return Number(r.stdout.trim());
    },
  };
}

/** A shell script run as root inside the user's netns (and mount namespace, if any). */
export function rootScript(u: TestUser, script: string, timeoutMs = 10 * 60_000): Promise<Collected> {
  const prefix = u.mntPid ? ['nsenter', '--mount', `--target=${u.mntPid}`, '--'] : [];
  return collect([...prefix, 'ip', 'netns', 'exec', u.netns, 'bash', '-c', script], { timeoutMs });
}

/** The shell words that run the entry point as the user (for rootScript's loops). */
export function asUserWords(u: TestUser): string {
  const env = u.userEnv().map((e) => `'${e}'`);
  return `runuser -u ${u.user} -- env -i ${env.join(' ')} sudo -n -- ${u.entry}`;
}

/** Exit codes of N calls, as a histogram: "0:120 2:30". */
export function histogram(out: string): string {
  const h = new Map<string, number>();
  for (const c of out.split('\n').filter(Boolean)) h.set(c, (h.get(c) ?? 0) + 1);
  return [...h].map(([c, n]) => `${c}:${n}`).join(' ');
}
