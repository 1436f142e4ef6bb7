// The build id names the installed code: a hash over the compiled (or source) files. A front end
// of another build asks a running engine to hand over. `npm run build` stamps it into
// dist/build-id, so a CLI verb reads 12 bytes instead of hashing every file on each call.
import { nodeCrypto } from './lazy-builtin.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(js|cjs|ts)$/.test(e.name)) out.push(p);
  }
}

/** sha256 over every .js/.ts file under root (relative name, size, content), 12 hex digits. */
export function hashTree(root: string): string {
  const files: string[] = [];
  walk(root, files);
  files.sort();
  const h = nodeCrypto().createHash('sha256');
  for (const f of files) {
    h.update(f.slice(root.length));
    h.update(String(statSync(f).size));
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 12);
}

/** The dist/ directory this module was built into, or null when running from source. */
function distDir(here: string): string | null {
  const i = `${here}${sep}`.lastIndexOf(`${sep}dist${sep}`);
  return i < 0 ? null : here.slice(0, i + 5);
}

export function buildId(): string {
  if (process.env.BANGER_BUILD_ID) return process.env.BANGER_BUILD_ID;
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url)); // app/ (source) or somewhere in dist/
  const dist = distDir(here);
  if (dist) {
    try {
      cached = readFileSync(join(dist, 'build-id'), 'utf8').trim() || null;
    } catch {
      /* not stamped: hash */
    }
  }
  cached ??= hashTree(dist ?? join(here, '..')); // app/, from app/base/
  return cached;
}
