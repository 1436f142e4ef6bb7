// npm run build: bundle app/ into dist/app/main.js plus lazily loaded chunks (esbuild, code
// splitting on every import()), then stamp dist/build-id. One bundle resolves and compiles
// faster than ~120 separate modules; native and file-reading packages stay external.
// Type checking is tsc's job (npm run lint / npm run typecheck).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPrivRoot } from './build-priv-root.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * commander requires node:child_process at load, for executable subcommands banger never uses:
 * that costs every verb ~2 ms of Node internals. Loaded on first use instead.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!src.includes(eager)) throw new Error(`${a.path}: no "${eager}" to make lazy (commander changed?)`);
      const lazy = "const childProcess = { get spawn() { return require('node:child_process').spawn; } };";
      return { contents: src.replace(eager, lazy), loader: 'js' };
    });
  },
};

/**
 * dist/verb.cjs.cache: V8's code cache of the verb bundle, taken after a warm-up run (help for a
 * verb and a completion: the command tree, the parser, the help and completion code) so it holds
 * the functions that run, not just the top level. bin/banger compiles the bundle with it.
 */
function writeVerbCache() {
  const warm = join(root, 'scripts', 'verb-cache.mjs');
  for (const args of [['vm', 'ls', '--help']]) {
    const r = spawnSync(process.execPath, [warm, join(dist, 'verb.cjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, BANGER_RUNTIME_DIR: join(dist, '.no-engine') },
    });
    if (r.status !== 0) throw new Error(`scripts/verb-cache.mjs ${args.join(' ')} failed: ${r.stderr}`);
  }
}
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['app/main.ts'],
  outdir: 'dist/app',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // better-sqlite3 is native; blessed and blessed-contrib read widget and terminfo files next
  // to their sources; xterm is loaded on demand anyway.
  external: ['better-sqlite3', 'blessed', 'blessed-contrib', '@xterm/headless'],
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __bangerRequire } from 'node:module'; const require = __bangerRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// CLI verbs: one CommonJS file with only the verb path (bin/banger runs it directly), minified
// (no comments or whitespace to parse; names kept for stack traces).
await build({
  absWorkingDir: root,
  entryPoints: ['app/entry/verb.ts'],
  outfile: 'dist/verb.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'blessed', 'blessed-contrib', '@xterm/headless'],
  define: { 'import.meta.url': '__bangerUrl' },
  banner: { js: "const __bangerUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  plugins: [lazyChildProcess],
  logLevel: 'warning',
});
writeVerbCache();
// The privileged entry point, precompiled: setup sudoers installs it without a compiler.
buildPrivRoot(root, join(dist, 'priv-root'));
// `banger --help` printed by bin/banger without loading the entry (the same text it would print).
const help = spawnSync(process.execPath, [join(dist, 'app', 'main.js'), '--help'], { encoding: 'utf8' });
if (help.status !== 0) throw new Error(`dist/app/main.js --help failed: ${help.stderr}`);
writeFileSync(join(dist, 'help.txt'), help.stdout);
// The build id: what app/base/buildid.ts would hash over dist/ if the stamp were missing.
const files = readdirSync(dist, { recursive: true })
  .filter((f) => /\.(js|cjs|ts)$/.test(f))
  .map((f) => join(dist, f))
  .sort();
const h = createHash('sha256');
for (const f of files) {
  h.update(f.slice(dist.length));
  h.update(String(statSync(f).size));
  h.update(readFileSync(f));
}
writeFileSync(join(dist, 'build-id'), h.digest('hex').slice(0, 12) + '\n');
