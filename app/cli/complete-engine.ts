// Where completion's dynamic values come from: the engine answering on the control socket, if
// one does. Never starts an engine; every answer within one budget (200 ms) or none at all.
import { ControlClient } from '../control/client.js';
import { BACKENDS } from '../contract/api.js';
import type { Paths } from '../base/paths.js';
import { assertTrustedDirs } from '../base/runtime-trust.js';
import { complete, render, type Source } from './complete.js';

export const BUDGET_MS = 200;

export function engineSource(socketPath: string, budgetMs = BUDGET_MS): { src: Source; close(): void } {
  const deadline = Date.now() + budgetMs;
  let client: Promise<ControlClient> | null = null;
  const connect = () => (client ??= ControlClient.connect(socketPath, { timeoutMs: budgetMs }));
  /** The answer, or the fallback when it fails or the budget runs out first. */
  const within = <T>(ask: (c: ControlClient) => Promise<T>, fallback: T) =>
    new Promise<T>((resolve) => {
      const timer = setTimeout(() => resolve(fallback), Math.max(0, deadline - Date.now()));
      connect()
        .then(ask)
        .then(
          (v) => resolve(v),
          () => resolve(fallback),
        )
        .finally(() => clearTimeout(timer));
    });
  return {
    src: {
      vms: () => within((c) => c.listVms(), []),
      images: () => within(async (c) => (await c.listImages()).map((i) => i.name), []),
      kernels: () => within(async (c) => (await c.listKernels()).map((k) => k.name), []),
      backends: () =>
        within(async (c) => (await c.status()).backends.filter((b) => b.available).map((b) => b.name), [...BACKENDS]),
    },
    close() {
      client?.then(
        (c) => c.close().catch(() => {}),
        () => {},
      );
    },
  };
}

/** The budget: 200 ms unless BANGER_COMPLETION_TIMEOUT_MS says otherwise (a slow host). */
export function budgetMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.BANGER_COMPLETION_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : BUDGET_MS;
}

/** The hidden `banger __complete WORDS...` verb: candidates on stdout, always exit 0. */
export async function completeMain(
  words: string[],
  paths: Pick<Paths, 'runtimeRoot' | 'runtimeDir' | 'controlSocket'>,
  out: (t: string) => void,
): Promise<number> {
  let engine: ReturnType<typeof engineSource> | null = null;
  try {
    // A runtime dir someone else controls may hold their socket: no names from there.
    assertTrustedDirs(paths.runtimeRoot ?? paths.runtimeDir, paths.runtimeDir, { allowMissing: true });
    engine = engineSource(paths.controlSocket, budgetMs());
  } catch {
    engine = null;
  }
  try {
    out(render(await complete(words.length ? words : [''], engine?.src ?? null)));
  } catch {
    out(':4'); // a broken completion must not break the shell's prompt
  } finally {
    engine?.close();
  }
  return 0;
}
