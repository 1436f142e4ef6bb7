// Imported root filesystems without systemd boot through banger's busybox init, whatever they
// lack: a scratch image (one static binary, no shell, no init, no /etc) gets busybox, its
// applets, /bin/sh, busybox init, accounts and dropbear; an image with its own /sbin/init keeps
// it as /sbin/init.image; commands an image has (anywhere on PATH) are never shadowed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageService } from '../../../app/engine/images/image-service.js';
import { makeEnv, debugfsCat, debugfsStat, type Env } from './helpers.js';

let env: Env;
let svc: ImageService;

test.before(() => {
  env = makeEnv();
  svc = new ImageService(env.deps);
});
test.after(() => env.cleanup());

const stat = (img: string, p: string) => debugfsStat(env.runner, img, p);
async function linkTarget(img: string, p: string): Promise<string> {
  const r = await env.runner.run(['debugfs', '-R', `stat ${p}`, img], { reject: false });
  return /Fast link dest: "([^"]*)"/.exec(r.stdout)?.[1] ?? '';
}

test('a scratch image (one static binary) gets busybox, busybox init, a shell, accounts and dropbear', async () => {
  const src = join(env.dir, 'scratch');
  mkdirSync(src);
  copyFileSync('/bin/busybox', join(src, 'app')); // a static binary that is not named busybox
  const rec = await svc.import({ name: 'scratch', path: src });
  assert.is(rec.init, 'busybox');
  assert.match(await stat(rec.path, '/app'), /Type: regular/, 'the image content is kept');
  assert.match(await stat(rec.path, '/bin/busybox'), /Type: regular/);
  for (const p of ['/sbin/init', '/bin/sh']) assert.is(await linkTarget(rec.path, p), '/bin/busybox', p);
  for (const p of ['/bin/mount', '/sbin/ip', '/bin/grep', '/sbin/reboot'])
    assert.match(await stat(rec.path, p), /Type: symlink/, `applet ${p}`);
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/passwd'), /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/shadow'), /^root:\*:/);
  assert.match(await stat(rec.path, '/usr/sbin/dropbear'), /Type: regular/);
  assert.match(await stat(rec.path, '/lib64/ld-linux-x86-64.so.2'), /Type: regular/, "dropbear's loader");
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/inittab'), /run\.sh stop/);
  assert.match(readLog(rec.buildLog), /no busybox in this image: adding busybox-static/);
});

test("an image's own /sbin/init is kept as /sbin/init.image; its commands are not shadowed", async () => {
  const src = join(env.dir, 'owninit');
  for (const d of ['sbin', 'usr/bin', 'etc']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, 'sbin/init'), '#!/app\nmy own init\n');
  chmodSync(join(src, 'sbin/init'), 0o755);
  writeFileSync(join(src, 'usr/bin/grep'), 'the image grep\n');
  writeFileSync(join(src, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/false\n');
  symlinkSync('/usr/bin/grep', join(src, 'usr/bin/egrep'));
  const rec = await svc.import({ name: 'owninit', path: src });
  assert.is(await debugfsCat(env.runner, rec.path, '/sbin/init.image'), '#!/app\nmy own init\n');
  assert.is(await linkTarget(rec.path, '/sbin/init'), '/bin/busybox', 'banger boots with busybox init');
  assert.is(await debugfsCat(env.runner, rec.path, '/usr/bin/grep'), 'the image grep\n');
  const bin = await env.runner.run(['debugfs', '-R', 'stat /bin/grep', rec.path], { reject: false });
  assert.match(bin.stdout + bin.stderr, /File not found/, 'no busybox grep in /bin to shadow /usr/bin/grep');
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/passwd'), /^app:x:1000:1000:/m, 'its accounts kept');
  assert.match(readLog(rec.buildLog), /kept as \/sbin\/init\.image/);
});

test('an image whose /sbin/init is busybox keeps it', async () => {
  const src = join(env.dir, 'bbinit');
  for (const d of ['bin', 'sbin']) mkdirSync(join(src, d), { recursive: true });
  copyFileSync('/bin/busybox', join(src, 'bin/busybox'));
  symlinkSync('/bin/busybox', join(src, 'sbin/init'));
  const rec = await svc.import({ name: 'bbinit', path: src });
  assert.is(await linkTarget(rec.path, '/sbin/init'), '/bin/busybox');
  const r = await env.runner.run(['debugfs', '-R', 'stat /sbin/init.image', rec.path], { reject: false });
  assert.match(r.stdout + r.stderr, /File not found/);
  assert.not.match(readLog(rec.buildLog), /no busybox in this image/);
});

function readLog(p: string | null): string {
  return p ? readFileSync(p, 'utf8') : '';
}

test.run();
