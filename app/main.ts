// The entry: parse argv, decide TUI / CLI verb / engine service, and wire concrete parts.
// The only file that chooses between the in-process engine and the control client.
import { readFileSync } from 'node:fs';
import type { EngineApi } from './engine/api.js';
import { createEngine } from './engine/wiring.js';
import { createRunner } from './engine/process.js';
import { runCli, helpText } from './cli/run.js';
import type { CliContext } from './cli/context.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return pkg.version;
  } catch {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return pkg.version;
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`banger ${version()}\n`);
    return 0;
  }
  let engine: EngineApi | null = null;
  const runner = createRunner();
  const ctx: CliContext = {
    async engine() {
      engine ??= createEngine({ mode: 'embedded' });
      return engine;
    },
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    interactive: (a) => runner.interactive(a),
    zone: process.env.BANGER_DNS_ZONE || 'vm',
    isTTY: !!process.stderr.isTTY,
    stdin: process.stdin,
  };
  return runCli(argv, ctx);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`banger: ${(err as Error).stack ?? err}\n`); process.exitCode = 2; },
);
