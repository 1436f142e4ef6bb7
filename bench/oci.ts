// bench/oci.ts (run by bench/oci.sh, as root: it makes a network namespace): import time of a
// ~30 MB image from a real local registry (docker-registry on loopback in the namespace), cold
// (empty layer cache) and again from the layer cache, against floors measured in the same run:
// `skopeo copy` of the same image to a dir (fetching and verifying the bytes, nothing else) and
// a plain `tar -xzf` of the same layer blobs. Prints medians and ratios.
//
//   node --import tsx bench/oci.ts [--iterations 3]
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from '../app/engine/images/image-service.js';
import { resolvePaths, ensureBaseDirs } from '../app/base/paths.js';
import { createRunner } from '../app/base/process.js';
import { nullLogger } from '../app/base/log.js';
import { Store } from '../app/engine/store.js';
import { testCacheDir } from '../test/helpers/cache.js';
import { Netns } from '../test/e2e/harness.js';
import { addImage, busyboxLayers, tagLayout, type Entry } from '../test/engine/images/oci/fixtures.js';
import { startRegistry } from '../test/engine/images/oci/registry.js';
import { inNetns } from '../test/engine/images/oci/helpers.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MiB = 1024 * 1024;

/** ~30 MB of layers: busybox, then two layers of random files (gzip cannot shrink them). */
function payload(n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < 60; i++) {
    const data = randomBytes(256 * 1024);
    out.push({ name: `usr/share/bench${n}/f${i}`, data });
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/oci.ts needs root (it makes a network namespace)');
  const dir = mkdtempSync(join(tmpdir(), 'banger-bench-oci-'));
  const ns = await Netns.create(`banger-bench-oci-${process.pid}`);
  const reg = await startRegistry(ns.name, dir, 5000);
  try {
    const layout = join(dir, 'layout');
    const layers = [busyboxLayers()[0], payload(1), payload(2), ...busyboxLayers().slice(1)];
    tagLayout(layout, { bench: await addImage(layout, { layers }) });
    const ref = `docker://${reg.host}/bench:latest`;
    const push = await ns.run(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:bench`, ref]);
    if (push.code !== 0) throw new Error(push.stderr);
    const blobs = join(layout, 'blobs/sha256');
    const bytes = readdirSync(blobs).reduce((n, f) => n + statSync(join(blobs, f)).size, 0);

    const cold: number[] = [];
    const warm: number[] = [];
    const fetchFloor: number[] = [];
    const tarFloor: number[] = [];
    const phases = new Map<string, number>();
    for (let i = 0; i < iterations; i++) {
      const r = await once(join(dir, `run${i}`), ns, ref, phases);
      cold.push(r.cold);
      warm.push(r.warm);
      fetchFloor.push(r.fetch);
      tarFloor.push(r.tar);
    }
    const c = median(cold);
    const w = median(warm);
    const f = median(fetchFloor);
    const x = median(tarFloor);
    console.log(
      `image: ${(bytes / MiB).toFixed(1)} MiB of blobs, ${layers.length} layers; ${iterations} runs, medians`,
    );
    console.log(`floor: skopeo copy to a dir     ${f.toFixed(0)} ms`);
    console.log(`floor: tar -xzf of the layers   ${x.toFixed(0)} ms`);
    console.log(
      `import, empty layer cache       ${c.toFixed(0)} ms  (${(c / f).toFixed(1)}x skopeo copy, ${(c / (f + x)).toFixed(1)}x copy+extract)`,
    );
    const per = [...phases].map(([k, v]) => `${k} ${(v / iterations / 2).toFixed(0)}`).join(', ');
    console.log(`time by phase, mean of all imports (ms): ${per}`);
    console.log(
      `import, from the layer cache    ${w.toFixed(0)} ms  (${(w / x).toFixed(1)}x tar extract; ${(w / c).toFixed(2)} of cold)`,
    );
  } finally {
    await reg.stop();
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One run: a cold import, a warm one (same cache), then the two floors on the same image. */
async function once(home: string, ns: Netns, ref: string, phases: Map<string, number>) {
  const runner = createRunner();
  mkdirSync(join(home, 'cache'), { recursive: true });
  symlinkSync(join(testCacheDir(), 'debs'), join(home, 'cache/debs'));
  const paths = resolvePaths({
    HOME: home,
    BANGER_STATE_DIR: join(home, 'state'),
    BANGER_CACHE_DIR: join(home, 'cache'),
    BANGER_RUNTIME_DIR: join(home, 'run'),
    BANGER_CONFIG_DIR: join(home, 'config'),
  });
  ensureBaseDirs(paths);
  const store = new Store(paths.dbFile);
  let mark = 0;
  let phase = '';
  const emit = (b: { phase: string }) => {
    const name = b.phase
      .replace(/[:(].*$/, '')
      .replace(/ \d+\/\d+ *$/, '')
      .trim();
    if (name === phase) return;
    const now = performance.now();
    if (phase) phases.set(phase, (phases.get(phase) ?? 0) + now - mark);
    phase = name;
    mark = now;
  };
  const svc = new ImageService({ runner: inNetns(runner, ns.name), store, paths, logger: nullLogger, emit });
  let t = performance.now();
  await svc.import({ name: 'cold', path: ref, tlsVerify: false });
  const coldMs = performance.now() - t;
  t = performance.now();
  await svc.import({ name: 'warm', path: ref, tlsVerify: false });
  const warmMs = performance.now() - t;
  store.close();

  const out = join(home, 'skopeo-dir');
  t = performance.now();
  const r = await ns.run(['skopeo', 'copy', '-q', '--src-tls-verify=false', ref, `dir:${out}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  const fetchMs = performance.now() - t;

  const x = join(home, 'tar');
  mkdirSync(x);
  t = performance.now();
  for (const f of readdirSync(out).filter((f) => /^[0-9a-f]{64}$/.test(f))) {
    const tr = await runner.run(['tar', '-xzf', join(out, f), '-C', x], { reject: false });
    if (tr.exitCode !== 0 && !/not in gzip format/.test(tr.stderr)) throw new Error(tr.stderr);
  }
  const tarMs = performance.now() - t;
  rmSync(home, { recursive: true, force: true });
  return { cold: coldMs, warm: warmMs, fetch: fetchMs, tar: tarMs };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
