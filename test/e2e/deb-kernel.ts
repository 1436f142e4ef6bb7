// Debian's cloud kernel for the real-guest files: the first file runs `kernel fetch deb` (the
// .debs come from the test cache), and its vmlinux and initramfs are kept in the test cache,
// keyed by the kernel package and by the code that makes them; the next files register those
// files with `kernel add` (what fetch registers, without the ~15-30 s of unpacking and the
// initramfs build). test/e2e/qemu-vm.test.ts always fetches: fetch itself stays tested.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { testCacheDir } from '../helpers/cache.js';
import { json, ok, ROOT, type RunResult } from './harness.js';

type Cli = (args: string[], timeoutMs?: number) => Promise<RunResult>;

/** What the fetched files depend on: the kernel .deb and the sources that unpack and wrap it. */
function key(): string | null {
  const debs = join(testCacheDir(), 'debs');
  const pkgs = existsSync(debs) ? readdirSync(debs).filter((f) => /^(linux-image-|busybox-static)/.test(f)) : [];
  if (!pkgs.some((f) => f.startsWith('linux-image-'))) return null;
  const h = createHash('sha256').update(pkgs.sort().join('\n'));
  for (const f of ['kernel-service.ts', 'initramfs.ts', 'vmlinux.ts', 'debs.ts'])
    h.update(readFileSync(join(ROOT, 'app', 'engine', 'images', f)));
  h.update(readFileSync(join(ROOT, 'assets', 'initramfs-init.sh')));
  return h.digest('hex').slice(0, 16);
}

/** Register kernel NAME (Debian's cloud kernel) through `cli`: from the cache, else fetched and cached. */
export async function debKernel(cli: Cli, name = 'deb'): Promise<'cached' | 'fetched'> {
  const k = key();
  const dir = k ? join(testCacheDir(), `deb-kernel-${k}`) : null;
  if (dir && existsSync(join(dir, 'initrd.img'))) {
    ok(await cli(['kernel', 'add', name, join(dir, 'vmlinux'), '--initrd', join(dir, 'initrd.img')]), 'kernel add');
    return 'cached';
  }
  ok(await cli(['kernel', 'fetch', name], 300_000), 'kernel fetch');
  const kernels = json<{ name: string; path: string; initrdPath: string | null }[]>(
    ok(await cli(['kernel', 'ls', '--json']), 'kernel ls'),
    'kernel ls',
  );
  const got = kernels.find((x) => x.name === name);
  const k2 = key(); // the fetch may have filled the .deb cache
  if (got?.initrdPath && k2) {
    const final = join(testCacheDir(), `deb-kernel-${k2}`);
    const tmp = `${final}.tmp-${process.pid}`;
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    copyFileSync(got.path, join(tmp, 'vmlinux'));
    copyFileSync(got.initrdPath, join(tmp, 'initrd.img'));
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  }
  return 'fetched';
}
