// Tests that run something as another user (the real-user tests, a jailer that drops to
// nobody) need it where that user can reach it. A checkout under a private dir (a `mktemp -d`,
// a 0700 home) is not such a place: those tests then use a copy of what they run in a 0755 dir
// under /tmp (hard links where the filesystem allows: no bytes copied), made once per test
// process and removed at its exit.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** What a user's banger and the stand-ins need: the source, its packages, the addon, the fixtures. */
const PARTS = [
  'package.json',
  'tsconfig.json',
  'app',
  'assets',
  'bin',
  'dist',
  'native',
  'node_modules',
  'test/fixtures',
];

/** Can a user who is neither owner nor in the group reach dir (search every ancestor, read it)? */
export function othersCanReach(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if (!(mode & 0o001) || (d === dir && !(mode & 0o004))) return false;
    if (d === dirname(d)) return true;
  }
}

let copy: string | null = null;

/** The checkout itself when others can reach it, else the reachable copy of what they run. */
export function reachableRoot(): string {
  if (othersCanReach(ROOT)) return ROOT;
  if (copy) return copy;
  const dir = mkdtempSync('/tmp/banger-reach-');
  chmodSync(dir, 0o755);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const part of PARTS) {
    const src = join(ROOT, part);
    if (!existsSync(src)) continue;
    const dst = join(dir, part);
    mkdirSync(dirname(dst), { recursive: true, mode: 0o755 });
    try {
      execFileSync('cp', ['-al', src, dst], { stdio: 'ignore' });
    } catch {
      rmSync(dst, { recursive: true, force: true });
      execFileSync('cp', ['-a', src, dst], { stdio: 'ignore' }); // another filesystem: a real copy
    }
  }
  // Directories the copy made (test/) get the umask's mode; make sure others can search them.
  for (let d = join(dir, 'test'); existsSync(d) && d !== dir; d = dirname(d)) chmodSync(d, 0o755);
  copy = dir;
  return dir;
}

/** The Firecracker simulator and the jailer stand-in, where another user can run them. */
export const reachableSim = (): string => join(reachableRoot(), 'test', 'fixtures', 'firecracker-sim');
export const reachableJailer = (): string => join(reachableRoot(), 'test', 'fixtures', 'jailer-sim');
export const reachableMain = (): string => join(reachableRoot(), 'app', 'main.ts');
