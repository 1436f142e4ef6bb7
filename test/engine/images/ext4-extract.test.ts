// Reading an untrusted ext4 back: a faithful copy of an ordinary tree, and crafted images (made
// with mkfs.ext4 -d, then a directory entry renamed in the raw bytes) that `debugfs rdump` would
// let write outside the target: refused, with nothing outside touched and nothing registered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '../../../app/base/process.js';
import { extractExt4Safely } from '../../../app/engine/images/ext4-extract.js';
import { ImageService } from '../../../app/engine/images/image-service.js';
import { BangerError } from '../../../app/base/errors.js';
import { makeEnv } from './helpers.js';
import { isRoot } from '../../helpers/skip.js';

const runner = createRunner();
const exec = (img: string) => async (script: string) =>
  (await runner.run(['debugfs', '-f', '-', img], { input: script })).stdout;

async function mkfs(src: string, img: string, extra: string[] = []): Promise<void> {
  await runner.run(['mkfs.ext4', '-q', '-F', ...extra, '-d', src, img, '16M']);
}

/** Rename one directory entry in the raw image (no metadata checksums, so it stays readable). */
function renameEntry(img: string, from: string, to: string, fileType: number): void {
  assert.is(from.length, to.length);
  const d = readFileSync(img);
  const needle = Buffer.concat([Buffer.from([from.length, fileType]), Buffer.from(from)]);
  const at = d.indexOf(needle);
  assert.ok(at > 0 && d.indexOf(needle, at + 1) === -1, `exactly one entry "${from}"`);
  Buffer.from(to).copy(d, at + 2);
  writeFileSync(img, d);
}

type Node = { type: string; mode: number; uid: number; gid: number; body?: string; target?: string; ino?: number };
function snapshot(root: string): Record<string, Node> {
  const out: Record<string, Node> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (name === 'lost+found') continue;
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = lstatSync(p);
      const n: Node = { type: '?', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isSymbolicLink()) Object.assign(n, { type: 'link', target: readlinkSync(p), mode: 0 });
      else if (st.isDirectory()) n.type = 'dir';
      else Object.assign(n, { type: 'file', body: readFileSync(p, 'utf8'), ino: st.nlink > 1 ? st.nlink : undefined });
      out[r] = n;
      if (n.type === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}

test('an ordinary tree comes back exactly: dirs, modes, owners, symlinks (absolute, relative, to dirs), hard links', async () => {
  const t = mkdtempSync(join(tmpdir(), 'bgr-x4-'));
  try {
    const src = join(t, 'src');
    mkdirSync(join(src, 'bin'), { recursive: true });
    mkdirSync(join(src, 'etc', 'ssh'), { recursive: true });
    mkdirSync(join(src, 'ro'));
    writeFileSync(join(src, 'bin', 'busybox'), 'ELF');
    chmodSync(join(src, 'bin', 'busybox'), 0o4755);
    symlinkSync('busybox', join(src, 'bin', 'sh'));
    symlinkSync('/bin/busybox', join(src, 'bin', 'ls'));
    symlinkSync('etc', join(src, 'etcdir'));
    symlinkSync('/nowhere/at/all', join(src, 'dangling'));
    writeFileSync(join(src, 'etc', 'ssh', 'key'), 'secret');
    chmodSync(join(src, 'etc', 'ssh', 'key'), 0o600);
    writeFileSync(join(src, 'etc', 'a name with spaces'), '');
    linkSync(join(src, 'etc', 'ssh', 'key'), join(src, 'etc', 'key.hard'));
    symlinkSync('x'.repeat(100), join(src, 'longlink')); // a slow symlink (target in a block)
    writeFileSync(join(src, 'ro', 'inside'), 'in a read-only dir');
    chmodSync(join(src, 'ro'), 0o555);
    if (isRoot) chownSync(join(src, 'etc', 'ssh', 'key'), 1234, 5678);
    const img = join(t, 'img.ext4');
    await mkfs(src, img);
    const dest = join(t, 'out');
    mkdirSync(dest);
    await extractExt4Safely(exec(img), img, dest);
    assert.equal(snapshot(dest), snapshot(src));
    assert.is(
      lstatSync(join(dest, 'etc', 'ssh', 'key')).ino,
      lstatSync(join(dest, 'etc', 'key.hard')).ino,
      'hard link kept',
    );
    assert.equal(readdirSync(t).sort(), ['img.ext4', 'out', 'src'], 'no staging left behind');
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

async function crafted(
  t: string,
  kind: 'symlink-then-file' | 'dotdot-name',
): Promise<{ img: string; outside: string }> {
  const src = join(t, 'src');
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(join(src, 'etc', 'inittab'), 'ok\n');
  const outside = join(t, 'outside');
  writeFileSync(outside, 'original\n');
  if (kind === 'symlink-then-file') {
    // "evil" -> the outside file, then a regular file renamed to "evil" as well.
    symlinkSync(outside, join(src, 'evil'));
    writeFileSync(join(src, 'evim'), 'PAYLOAD\n');
  } else {
    writeFileSync(join(src, 'aaaaaaaaaa'), 'PAYLOAD\n'); // renamed to ../outside (10 bytes)
  }
  const img = join(t, 'crafted.ext4');
  await mkfs(src, img, ['-O', '^metadata_csum']);
  if (kind === 'symlink-then-file') renameEntry(img, 'evim', 'evil', 1);
  else renameEntry(img, 'aaaaaaaaaa', '../outside', 1);
  return { img, outside };
}

for (const kind of ['symlink-then-file', 'dotdot-name'] as const) {
  test(`crafted image (${kind}): refused with E_INVALID_ARGUMENT, nothing written outside`, async () => {
    const t = mkdtempSync(join(tmpdir(), 'bgr-x4-'));
    try {
      const { img, outside } = await crafted(t, kind);
      const dest = join(t, 'sub', 'out');
      mkdirSync(dest, { recursive: true });
      try {
        await extractExt4Safely(exec(img), img, dest);
        assert.unreachable('extracted');
      } catch (err) {
        assert.is((err as BangerError).code, 'E_INVALID_ARGUMENT', String(err));
        assert.match((err as Error).message, /crafted/);
      }
      assert.is(readFileSync(outside, 'utf8'), 'original\n', 'the outside file is untouched');
      assert.equal(readdirSync(join(t, 'sub')), ['out'], 'no staging, nothing beside the target');
    } finally {
      rmSync(t, { recursive: true, force: true });
    }
  });
}

test('image import of a crafted ext4: refused, nothing registered or left, the outside file intact', async () => {
  const env = makeEnv();
  const t = mkdtempSync(join(tmpdir(), 'bgr-x4-'));
  try {
    const svc = new ImageService(env.deps);
    const { img, outside } = await crafted(t, 'symlink-then-file');
    try {
      await svc.import({ name: 'evil', path: img });
      assert.unreachable('imported');
    } catch (err) {
      assert.is((err as BangerError).code, 'E_INVALID_ARGUMENT', String(err));
    }
    assert.is(readFileSync(outside, 'utf8'), 'original\n');
    assert.is(env.store.getImage('evil'), null);
    assert.not.ok(existsSync(join(env.paths.imagesDir, 'evil.ext4')));
    assert.equal(
      readdirSync(env.paths.buildsDir).filter((f) => !f.endsWith('.log')),
      [],
    );
  } finally {
    rmSync(t, { recursive: true, force: true });
    env.cleanup();
  }
});

test.run();
