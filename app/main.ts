// The entry: parse argv, decide TUI / CLI verb / engine service, and wire concrete parts.
// The only file that chooses between the in-process engine and the control client.
import { readFileSync } from 'node:fs';
import type { EngineApi } from './engine/api.js';
import { createRunner } from './engine/process.js';
import { loadConfig } from './engine/config.js';
import { runCli, helpText } from './cli/run.js';
import type { CliContext } from './cli/context.js';
import { ping } from './control/client.js';
import { ControlClient } from './control/client.js';
import { connectEngine, detach, trustRuntime } from './entry/connect.js';
import { serveForeground } from './entry/serve.js';
import { dnsSetup } from './entry/dns-setup.js';
import { resolvePaths } from './paths.js';
import { toBangerError } from './errors.js';

function version(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version;
    } catch {
      /* next */
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const paths = resolvePaths();
  const out = (t: string) => process.stdout.write(t + '\n');
  const err = (t: string) => process.stderr.write(t + '\n');
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(helpText());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    out(`banger ${version()}`);
    return 0;
  }
  try {
    if (argv.length === 1 && argv[0] === '--detach') return await detach(paths, out);
    if (argv[0] === 'engine' && argv[1] === 'serve') return await serveForeground();
    if (argv.length === 0) {
      const { tuiMain } = await import('./entry/tui.js'); // blessed loads only for the TUI
      return await tuiMain(paths);
    }
  } catch (e) {
    const be = toBangerError(e);
    err(`banger: ${be.message.replace(/\s*\n\s*/g, '; ')} [${be.code}]`);
    return be.isUserError ? 1 : 2;
  }

  let engine = null as ControlClient | null;
  const runner = createRunner();
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
    interactive: (a) => runner.interactive(a),
    paths,
    zone,
    isTTY: !!process.stderr.isTTY,
    stdin: process.stdin,
    async stopEngine({ stopVms, purge }) {
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
    },
    dnsSetup: (mode) => dnsSetup(paths, runner, mode),
    doctor: async () => (await import('./entry/doctor.js')).hostDoctor(paths),
  };
  try {
    return await runCli(argv, ctx);
  } finally {
    await engine?.close().catch(() => {});
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`banger: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  },
);
