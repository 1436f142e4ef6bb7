// What dist/verb.cjs runs: bin/banger sends a CLI verb of a built checkout straight here, one
// CommonJS file with nothing but the verb path (no ES module loader, no chunks to resolve).
import { resolvePaths } from '../base/paths.js';
import { cliMain } from './cli.js';

cliMain(process.argv.slice(2), resolvePaths()).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`banger: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  },
);
