// bench/mounts.ts (run by bench/mounts.sh inside a network namespace, engine started): a 256
// MiB QEMU guest with a 1 GiB disk and one shared folder holding a 100 MiB file and a
// 10,000-file tree; the same made on the guest's own disk. Per iteration, in the guest, with
// its page cache dropped before each: `cat` of the 100 MiB file and `find | wc -l` over the
// tree, own disk and folder alternated so load hits both alike. Times from /proc/uptime (10 ms).
//
//   node --import tsx bench/mounts.ts [--iterations 3]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths } from '../app/base/paths.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const paths = resolvePaths(process.env);
const BIN = join(import.meta.dirname, '..', 'bin', 'banger');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function guest(name: string, script: string): string {
  const r = spawnSync(BIN, ['vm', 'exec', name, '--', 'sh', '-c', script], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`vm exec failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A 10,000-file tree: 100 dirs of 100 empty files. */
function makeTree(dir: string): void {
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `d${d}`, `f${f}`), '');
  }
}

// One timing in the guest: caches dropped, then the command; prints "ms lines".
const TIMED = `t() { sync; echo 3 > /proc/sys/vm/drop_caches; a=$(cut -d' ' -f1 /proc/uptime); n=$("$@" | wc -l); b=$(cut -d' ' -f1 /proc/uptime); echo "$(( (\${b%.*}\${b#*.} - \${a%.*}\${a#*.}) * 10 )) $n"; }`;

async function main(): Promise<void> {
  const e = await ControlClient.connect(paths.controlSocket);
  const dir = mkdtempSync(join(tmpdir(), 'banger-bench-mounts-'));
  const name = 'mountbench';
  try {
    spawnSync('dd', ['if=/dev/urandom', `of=${join(dir, 'big')}`, 'bs=1M', 'count=100', 'status=none']);
    makeTree(join(dir, 'tree'));
    await e.createVm({ name, backend: 'qemu', memoryMib: 256, disk: '1G', mounts: [`${dir}:/share:ro`], start: true });
    const deadline = Date.now() + 120_000;
    while (spawnSync(BIN, ['vm', 'exec', name, '--', 'true']).status !== 0) {
      if (Date.now() > deadline) throw new Error('guest not reachable within 120 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    // The own-disk copies, made in the guest from the folder (same bytes, same tree).
    guest(name, 'mkdir -p /own && cp /share/big /own/big && cp -r /share/tree /own/tree && sync');
    const own = { read: [] as number[], find: [] as number[] };
    const share = { read: [] as number[], find: [] as number[] };
    for (let i = 0; i < iterations; i++) {
      const out = guest(name, `${TIMED}; t cat /own/big; t cat /share/big; t find /own/tree; t find /share/tree`)
        .trim()
        .split('\n')
        .map((l) => l.split(' ').map(Number));
      if (out[2][1] !== 10_101 || out[3][1] !== 10_101) throw new Error(`find counted ${out[2][1]} / ${out[3][1]}`);
      own.read.push(out[0][0]);
      share.read.push(out[1][0]);
      own.find.push(out[2][0]);
      share.find.push(out[3][0]);
    }
    const r = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
    console.log(`load ${loadavg()[0].toFixed(2)}, ${iterations} iterations, guest page cache dropped before each`);
    console.log(`read 100 MiB: own disk median ${median(own.read)} ms, shared folder median ${median(share.read)} ms`);
    console.log(`ratio read folder/own disk: ${r(share.read, own.read)}`);
    console.log(
      `find | wc -l, 10,101 entries: own disk median ${median(own.find)} ms, shared folder median ${median(share.find)} ms`,
    );
    console.log(`ratio find folder/own disk: ${r(share.find, own.find)}`);
  } finally {
    await e.removeVm(name, { force: true }).catch(() => {});
    await e.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench/mounts: ${(err as Error).message}`);
  process.exit(1);
});
