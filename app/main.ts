// The entry: decide TUI / CLI verb / engine service. Every route loads only what it needs
// (per-route import()): a CLI verb that finds an engine never loads the engine, blessed,
// blessed-contrib, xterm or SQLite. bin/banger short-cuts two routes of a built checkout
// (--version/--help, and verbs through dist/verb.cjs); keep its route test in step with this one.
// bench/startup.sh measures it.
import { readFileSync } from 'node:fs';
import { resolvePaths } from './base/paths.js';
import { toBangerError } from './base/errors.js';

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
  const out = (t: string) => process.stdout.write(t + '\n');
  const err = (t: string) => process.stderr.write(t + '\n');
  // Bare help only: "banger help vm stop" and "banger vm --help" are the parser's (app/cli).
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help')) {
    const { helpText } = await import('./cli/run.js');
    out(helpText());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    out(`banger ${version()}`);
    return 0;
  }
  const paths = resolvePaths();
  try {
    if (argv.length === 1 && argv[0] === '--detach')
      return await (await import('./entry/connect.js')).detach(paths, out);
    if (argv.length === 2 && argv[0] === 'engine' && argv[1] === 'serve')
      return await (await import('./entry/serve.js')).serveForeground();
    if (argv.length === 0) {
      const { tuiMain } = await import('./entry/tui.js'); // blessed loads only for the TUI
      return await tuiMain(paths);
    }
  } catch (e) {
    const be = toBangerError(e);
    err(`banger: ${be.message.replace(/\s*\n\s*/g, '; ')} [${be.code}]`);
    return be.isUserError ? 1 : 2;
  }
  return await (await import('./entry/cli.js')).cliMain(argv, paths);
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
