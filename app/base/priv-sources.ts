// The privileged entry point's sources (app/priv/root): which files are installed, where they
// are in this checkout or build, and their stamp. Here, not in priv/, so that both the installer
// and the engine's doctor (which tells an outdated install by the stamp) read it from below.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCrypto } from './lazy-builtin.js';
import { BangerError, ErrorCodes } from './errors.js';

/** The root-run modules, installed as DIR/lib/NAME.js; `main` is the entry point's main. */
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
/** Installed by an older banger and no longer used (removed with the entry point). */
export const LEGACY_ROOT_FILES = ['helper'];

/** app/priv/root in this checkout: from app/base (tsx), dist/app/... (tsc) or dist/ (the bundle). */
export function rootSourceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let d = here, i = 0; i < 6; d = dirname(d), i++) {
    const c = join(d, 'app', 'priv', 'root');
    if (existsSync(join(c, 'main.ts'))) return c;
  }
  throw new BangerError(ErrorCodes.NOT_FOUND, `cannot find app/priv/root/main.ts near ${here}`);
}

/** Where the build puts them compiled (scripts/build-priv-root.mjs): <checkout>/dist/priv-root. */
export function builtRootDir(): string {
  return join(rootSourceDir(), '..', '..', '..', 'dist', 'priv-root');
}

/**
 * A hash of the entry point's TypeScript sources, installed beside the compiled files
 * (lib/source.sha256): doctor tells an outdated install by it without loading the compiler.
 */
export function sourceStamp(): string {
  const src = rootSourceDir();
  const h = nodeCrypto().createHash('sha256');
  for (const f of ROOT_FILES) h.update(`${f}\0`).update(readFileSync(join(src, `${f}.ts`)));
  return h.digest('hex');
}
