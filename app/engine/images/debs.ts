// Debian packages fetched with `apt-get download` into a cache dir and reused: the first
// build downloads, later builds (and test runs sharing BANGER_CACHE_DIR) do not.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BuildJob } from './job.js';
import { serial } from './serial.js';

export class DebCache {
  readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'debs');
  }

  /** The newest cached .deb of this exact package, or null. */
  cached(pkg: string): string | null {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return null;
    }
    const hits = names
      .filter((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'))
      .map((n) => join(this.dir, n))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    return hits[0] ?? null;
  }

  /** Paths of the .debs for pkgs, downloading the ones not cached yet (into a temp dir, then moved). */
  async fetch(pkgs: string[], job: BuildJob): Promise<Record<string, string>> {
    // apt-get download writes into its cwd: one download at a time per cache dir.
    return serial(
      this.dir,
      async () => {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        const missing = pkgs.filter((p) => !this.cached(p));
        if (missing.length) {
          const tmp = join(this.dir, `.dl-${randomBytes(4).toString('hex')}`);
          mkdirSync(tmp);
          try {
            await job.run(['apt-get', 'download', '-q', ...missing], { cwd: tmp, timeoutMs: 15 * 60_000 });
            for (const f of readdirSync(tmp)) if (f.endsWith('.deb')) renameSync(join(tmp, f), join(this.dir, f));
          } finally {
            rmSync(tmp, { recursive: true, force: true });
          }
        }
        const out: Record<string, string> = {};
        for (const p of pkgs) {
          const deb = this.cached(p);
          if (!deb) throw new Error(`apt-get download did not produce a .deb for ${p}`);
          out[p] = deb;
        }
        return out;
      },
      { signal: job.signal },
    );
  }

  /** Unpack a .deb's files (no maintainer scripts) into dest. */
  async extract(deb: string, dest: string, job: BuildJob): Promise<void> {
    mkdirSync(dest, { recursive: true });
    await job.run(['dpkg-deb', '-x', deb, dest]);
  }
}
