import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirInRoot, existsInRoot, writeInRoot } from '../../../app/engine/images/rootfs-path.js';

let base: string;
let root: string;
test.before.each(() => {
  base = mkdtempSync(join(tmpdir(), 'banger-rootfs-'));
  root = join(base, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(base, 'host/etc'), { recursive: true });
  writeFileSync(join(base, 'host/etc/passwd'), 'host file\n');
});
test.after.each(() => rmSync(base, { recursive: true, force: true }));

test('absolute symlinks resolve inside the root, as in a chroot', () => {
  symlinkSync(join(base, 'host/etc'), join(root, 'etc')); // absolute, pointing at a "host" dir
  writeInRoot(root, 'etc/passwd', 'guest\n');
  assert.is(readFileSync(join(base, 'host/etc/passwd'), 'utf8'), 'host file\n', 'host file untouched');
  // the link was followed as <root><target>, created inside the root
  assert.ok(existsSync(join(root, base, 'host/etc/passwd')));
});

test('relative links work and cannot climb out of the root', () => {
  symlinkSync('usr/lib', join(root, 'lib'));
  writeInRoot(root, 'lib/x.so', 'lib');
  assert.is(readFileSync(join(root, 'usr/lib/x.so'), 'utf8'), 'lib');
  symlinkSync('../../../../../..', join(root, 'up'));
  const d = dirInRoot(root, 'up/etc');
  assert.is(d, join(root, 'etc'));
  assert.ok(existsInRoot(root, 'lib/x.so'));
  assert.not.ok(existsInRoot(root, 'lib/none.so'));
});

test('a symlink at the file itself is replaced, not followed', () => {
  mkdirSync(join(root, 'etc'));
  symlinkSync(join(base, 'host/etc/passwd'), join(root, 'etc/passwd'));
  writeInRoot(root, 'etc/passwd', 'guest\n', 0o600);
  assert.is(readFileSync(join(base, 'host/etc/passwd'), 'utf8'), 'host file\n');
  assert.ok(lstatSync(join(root, 'etc/passwd')).isFile());
  assert.is(lstatSync(join(root, 'etc/passwd')).mode & 0o777, 0o600);
});

test('a read-only file or a hard link is replaced, not written into', () => {
  const ino = (p: string) => lstatSync(p).ino;
  const before = ino(join(base, 'host/etc/passwd'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/machine-id'), 'old\n');
  chmodSync(join(root, 'etc/machine-id'), 0o444);
  linkSync(join(base, 'host/etc/passwd'), join(root, 'etc/passwd'));
  // (As root the 0444 file would be writable anyway; the user's case is in test/e2e/debian.test.ts.)
  writeInRoot(root, 'etc/machine-id', '');
  writeInRoot(root, 'etc/passwd', 'guest\n');
  assert.is(readFileSync(join(root, 'etc/machine-id'), 'utf8'), '');
  assert.is.not(ino(join(root, 'etc/passwd')), before, 'a new file, not the linked one');
  assert.is(readFileSync(join(base, 'host/etc/passwd'), 'utf8'), 'host file\n', 'the linked host file is untouched');
});

test('symlink loops are refused', () => {
  symlinkSync('b', join(root, 'a'));
  symlinkSync('a', join(root, 'b'));
  assert.throws(() => dirInRoot(root, 'a/x'), /too many symlinks/);
});

test.run();
