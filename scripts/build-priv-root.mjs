// The privileged entry point's modules (app/priv/root/*.ts), compiled to CommonJS for root's
// node, with the stamp of their sources: `banger setup sudoers` installs these as they are, so
// an install needs no compiler at run time. Used by build.mjs (dist/priv-root) and by
// app/priv/install.ts in a checkout that was not built (ROOT_TRANSFORM there matches this).
import { transformSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Keep in step with ROOT_FILES in app/base/priv-sources.ts (test/priv/install-files.test.ts checks). */
export const ROOT_FILES = [
  'main',
  'verbs',
  'vmm-verbs',
  'jail-verbs',
  'build-verbs',
  'policy',
  'fd-walk',
  'fd-remove',
  'kill-verb',
  'forward-verb',
];
export const ROOT_TRANSFORM = { loader: 'ts', format: 'cjs', target: 'node20', legalComments: 'inline' };

/** Compile app/priv/root under `root` into `outDir` (NAME.js each, and source.sha256). */
export function buildPrivRoot(root, outDir) {
  const src = join(root, 'app', 'priv', 'root');
  mkdirSync(outDir, { recursive: true });
  const h = createHash('sha256');
  for (const f of ROOT_FILES) {
    const ts = readFileSync(join(src, `${f}.ts`));
    h.update(`${f}\0`).update(ts);
    writeFileSync(join(outDir, `${f}.js`), transformSync(ts.toString('utf8'), ROOT_TRANSFORM).code);
  }
  writeFileSync(join(outDir, 'source.sha256'), `${h.digest('hex')}\n`);
}
