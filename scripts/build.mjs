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

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
// CLI verbs: one CommonJS file with only the verb path (bin/banger runs it directly).
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
  logLevel: 'warning',
});
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
