// Live bytes while skopeo copies: it writes each blob to a temp file in the import's layout
// dir (oci-put-blob*) and renames it into the cache when its digest checks out, so the temp
// files are the layers in flight and the new cache entries the layers done.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes } from '../../../base/human.js';
import type { BuildJob } from '../job.js';

export function watchCopy(job: BuildJob, blobDir: string, layout: string, cachedBefore: Set<string>): () => void {
  const base = job.state.phase;
  const tick = () => {
    const inFlight = sizes(layout, (f) => f.startsWith('oci-put-blob'));
    const done = sizes(join(blobDir, 'sha256'), (f) => !cachedBefore.has(f));
    if (!inFlight.length && !done.length) return;
    const total = done.reduce((a, b) => a + b, 0);
    const flying = inFlight.map((b) => formatBytes(b)).join(' + ');
    job.detail(`${base}: ${done.length} blobs done (${formatBytes(total)})${flying ? `, fetching ${flying}` : ''}`);
    job.percent(Math.min(28, 2 + done.length));
  };
  const timer = setInterval(tick, 250);
  return () => {
    clearInterval(timer);
    tick();
  };
}

function sizes(dir: string, keep: (f: string) => boolean): number[] {
  try {
    return readdirSync(dir)
      .filter(keep)
      .map((f) => {
        try {
          return statSync(join(dir, f)).size;
        } catch {
          return 0;
        }
      });
  } catch {
    return [];
  }
}
