// The build id names the installed code: a hash over the compiled (or source) files next to
// this module. A front end of another build asks a running engine to hand over.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(js|ts)$/.test(e.name)) out.push(p);
  }
}

export function buildId(): string {
  if (process.env.BANGER_BUILD_ID) return process.env.BANGER_BUILD_ID;
  if (cached) return cached;
  const root = dirname(fileURLToPath(import.meta.url)); // app/ (source) or dist/app/ (compiled)
  const files: string[] = [];
  walk(root, files);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f.slice(root.length));
    h.update(String(statSync(f).size));
    h.update(readFileSync(f));
  }
  cached = h.digest('hex').slice(0, 12);
  return cached;
}
