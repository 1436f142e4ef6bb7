// A CLI verb (banger vm ls, ...): the command table, the control client and the runner, wired
// into the context commands see. The only module that chooses the control client for verbs.
import type { EngineApi } from '../contract/api.js';
import type { CliContext } from '../cli/context.js';
import { runCli } from '../cli/run.js';
import { ControlClient, ping } from '../control/client.js';
import type { ProcessRunner } from '../base/process.js';
import { loadConfig } from '../engine/config.js';
import type { Paths } from '../base/paths.js';
import { connectEngine, trustRuntime } from './connect.js';

export async function cliMain(argv: string[], paths: Paths): Promise<number> {
  const out = (t: string) => process.stdout.write(t + '\n');
  const err = (t: string) => process.stderr.write(t + '\n');
  // Shell completion: the command tree and, for names, an engine that already runs (never started).
  if (argv[0] === '__complete')
    return (await import('../cli/complete-engine.js')).completeMain(argv.slice(1), paths, out);
  let engine = null as ControlClient | null;
  // child_process and stdin load on first use: most verbs need neither.
  let runner: ProcessRunner | null = null;
  const run = async () => (runner ??= (await import('../base/process.js')).createRunner());
  let zone = 'vm';
  try {
    zone = loadConfig(paths).dnsZone;
  } catch {
    /* the engine reports a bad config */
  }
  const ctx: CliContext = {
    async engine(): Promise<EngineApi> {
      engine ??= await connectEngine(paths, err);
      return engine;
    },
    out,
    err,
    interactive: async (a) => (await run()).interactive(a),
    processes: run,
    paths,
    zone,
    isTTY: !!process.stderr.isTTY,
    get stdin() {
      return process.stdin;
    },
    stopEngine: (o) => stopEngine(paths, o),
    dnsSetup: async (mode) => (await import('./dns-setup.js')).dnsSetup(paths, await run(), mode),
    sudoersSetup: async (mode, user, bins) =>
      (await import('./sudoers-setup.js')).sudoersSetup(await run(), mode, user, bins),
    doctor: async () => (await import('./doctor.js')).hostDoctor(paths),
  };
  try {
    return await runCli(argv, ctx);
  } finally {
    await engine?.close().catch(() => {});
  }
}

/** banger engine stop: ask the engine to shut down and wait until its socket stops answering. */
async function stopEngine(paths: Paths, { stopVms, purge }: { stopVms: boolean; purge: boolean }): Promise<string> {
  trustRuntime(paths);
  const hello = await ping(paths.controlSocket, { timeoutMs: 1000 });
  if (!hello) return 'no engine is running';
  const c = await ControlClient.connect(paths.controlSocket);
  await c.shutdown({ stopVms, purge });
  await c.close().catch(() => {});
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && (await ping(paths.controlSocket, { timeoutMs: 300 })))
    await new Promise((r) => setTimeout(r, 50));
  return `engine (pid ${hello.pid}) stopped${stopVms ? ', VMs stopped' : ', VMs left running'}${purge ? ', bridge and NAT removed' : ''}`;
}
