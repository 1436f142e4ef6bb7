// Test helper: a throwaway network namespace and a ProcessRunner confined to it. Every argv is
// prefixed with `ip netns exec NS`, so bridges, TAPs, addresses and nft tables the code under
// test creates live (and die) inside the namespace, never in the root one.
import { createRunner, type ProcessRunner, type RunOptions, type RunResult } from '../../../app/base/process.js';

export interface Netns {
  name: string;
  runner: ProcessRunner;
  /** Every call the code under test made, with its options (to check `privileged`). */
  calls: { argv: string[]; opts: RunOptions }[];
  /** Run a command inside the namespace (for assertions). */
  sh(argv: string[]): Promise<RunResult>;
  destroy(): Promise<void>;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function netnsRunner(ns: string, base: ProcessRunner = createRunner(), calls?: Netns['calls']): ProcessRunner {
  const prefix = ['ip', 'netns', 'exec', ns];
  return {
    isRoot: base.isRoot,
    run(argv, opts = {}) {
      calls?.push({ argv, opts });
      return base.run([...prefix, ...argv], opts);
    },
    spawn(argv, opts) {
      return base.spawn([...prefix, ...argv], opts);
    },
    interactive(argv, opts) {
      return base.interactive([...prefix, ...argv], opts);
    },
  };
}

/** A new namespace; its tests are registered with runIf(test, NEEDS_ROOT) (test/helpers/skip.ts). */
export async function createNetns(tag: string): Promise<Netns> {
  if (!isRoot) throw new Error(`netns ${tag}: needs root (register the test with runIf(test, NEEDS_ROOT))`);
  const base = createRunner();
  const name = `banger-nettest-${process.pid}-${tag}`.slice(0, 40);
  await base.run(['ip', 'netns', 'add', name]);
  await base.run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  const calls: Netns['calls'] = [];
  return {
    name,
    runner: netnsRunner(name, base, calls),
    calls,
    sh: (argv) => base.run(['ip', 'netns', 'exec', name, ...argv], { reject: false }),
    destroy: async () => {
      await base.run(['ip', 'netns', 'delete', name], { reject: false });
    },
  };
}
