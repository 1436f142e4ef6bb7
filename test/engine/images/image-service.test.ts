import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ImageService } from '../../../app/engine/images/image-service.js';
import { BangerError } from '../../../app/base/errors.js';
import { makeEnv, debugfsCat, debugfsStat, vmRow, type Env } from './helpers.js';

let env: Env;
let svc: ImageService;
let built: string; // path of the busybox image built once for the content checks

test.before(async () => {
  env = makeEnv();
  svc = new ImageService(env.deps);
});
test.after(() => env.cleanup());

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    return (err as BangerError).code;
  }
  throw new Error('expected a BangerError');
}

/** Nothing left by a failed/cancelled build: only .log files in buildsDir, no image files. */
function assertNoLeftovers(name: string): void {
  assert.is(env.store.getImage(name), null);
  assert.not.ok(existsSync(join(env.paths.imagesDir, `${name}.ext4`)));
  const stray = readdirSync(env.paths.buildsDir).filter((f) => !f.endsWith('.log'));
  assert.equal(stray, []);
  const debs = join(env.paths.cacheDir, 'debs');
  if (existsSync(debs))
    assert.equal(
      readdirSync(debs).filter((f) => f.startsWith('.dl-')),
      [],
    );
}

test('busybox build registers an ext4 image customized for banger', async () => {
  const rec = await svc.build({ name: 'bb', from: 'busybox' });
  built = rec.path;
  assert.is(rec.path, join(env.paths.imagesDir, 'bb.ext4'));
  assert.is(rec.sizeBytes, 256 * 1024 ** 2);
  assert.match(rec.sha256, /^[0-9a-f]{64}$/);
  assert.is(rec.init, 'busybox', 'the init is recorded: it sets the graceful-stop wait');
  assert.equal(env.store.getImage('bb'), rec);
  // progress: phases in order, ending done at 100 with the log path
  const phases = env.progress.filter((p) => p.name === 'bb').map((p) => p.phase);
  for (const ph of ['fetch packages', 'assemble rootfs', 'customize', 'mkfs', 'checksum', 'register'])
    assert.ok(phases.includes(ph), ph);
  const last = env.progress[env.progress.length - 1];
  assert.equal([last.state, last.percent, last.logPath], ['done', 100, rec.buildLog]);
  assert.match(readFileSync(rec.buildLog!, 'utf8'), /\$ mkfs\.ext4 -q -F -L bangerroot/);
  assert.ok(env.logs.join('').includes('$ dpkg-deb -x'));

  const init = await debugfsStat(env.runner, rec.path, '/sbin/init');
  assert.match(init, /Type: symlink/);
  assert.match(await debugfsStat(env.runner, rec.path, '/bin/busybox'), /Type: regular/);
  const inittab = await debugfsCat(env.runner, rec.path, '/etc/inittab');
  assert.match(inittab, /^ttyS0::respawn:-\/bin\/sh$/m);
  assert.match(inittab, /^::ctrlaltdel:\/sbin\/reboot$/m);
  assert.match(inittab, /^::sysinit:\/etc\/init\.d\/rcS$/m);
  const rcS = await debugfsCat(env.runner, rec.path, '/etc/init.d/rcS');
  assert.match(rcS, /\/etc\/banger\/net\.sh/);
  assert.match(rcS, /dropbear .*-p 22/);
  assert.match(rcS, /\/etc\/banger\/ready\.sh/);
  assert.match(rcS, /\/etc\/banger\/seed\.sh\n\/etc\/banger\/ready\.sh/, 'the seed hook, before the ready marker');
  assert.match(await debugfsStat(env.runner, rec.path, '/etc/banger/seed.sh'), /Mode:\s+0755/);
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/banger/seed.sh'), /LABEL=cidata/);
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/banger/ready.sh'), /BANGER_READY .*> \/dev\/console/);
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/banger/net.sh'), /nameserver/);
  const pub = readFileSync(`${env.paths.sshKey}.pub`, 'utf8').trim();
  assert.match(pub, /^ssh-ed25519 /);
  assert.is((await debugfsCat(env.runner, rec.path, '/root/.ssh/authorized_keys')).trim(), pub);
  assert.match(await debugfsStat(env.runner, rec.path, '/root/.ssh/authorized_keys'), /Mode:\s+0600/);
  assert.match(await debugfsStat(env.runner, rec.path, '/usr/sbin/dropbear'), /Type: regular/);
  assert.match(await debugfsStat(env.runner, rec.path, '/usr/lib/x86_64-linux-gnu/libtomcrypt.so.1'), /Type: regular/);
  assert.match(await debugfsStat(env.runner, rec.path, '/sbin/reboot'), /Type: symlink/);
  // Names that resolve without a server: localhost (and the VM's own name, added at boot).
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/hosts'), /^127\.0\.0\.1\s+localhost$/m);
  assert.is(await debugfsCat(env.runner, rec.path, '/etc/nsswitch.conf'), 'hosts: files dns\n');
  const label = await env.runner.run(['dumpe2fs', '-h', rec.path]);
  assert.match(label.stdout, /Filesystem volume name:\s+bangerroot/);
  assertNoLeftovers('nothing-here');
});

test('bad input is refused before anything happens', async () => {
  const before = env.progress.length;
  assert.is(await code(svc.build({ name: 'Bad Name!', from: 'busybox' })), 'E_INVALID_NAME');
  assert.is(await code(svc.build({ name: '../x', from: 'busybox' })), 'E_INVALID_NAME');
  try {
    await svc.build({ name: 'x', from: 'alpine' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
    assert.match((e as Error).message, /busybox, debian:bookworm/);
  }
  assert.is(await code(svc.build({ name: 'x', from: 'busybox', size: 'huge' })), 'E_INVALID_SIZE');
  assert.is(await code(svc.build({ name: 'x', from: 'busybox', size: '1M' })), 'E_INVALID_SIZE');
  assert.is(await code(svc.build({ name: 'x', from: 'busybox', packages: ['rm -rf'] })), 'E_INVALID_ARGUMENT');
  assert.is(await code(svc.build({ name: 'bb', from: 'busybox' })), 'E_NAME_TAKEN');
  assert.is(await code(svc.import({ name: 'y', path: join(env.dir, 'nope') })), 'E_NOT_FOUND');
  // Relative to the engine's working directory, not the user's: refused (the CLI resolves it).
  assert.is(await code(svc.import({ name: 'y', path: 'package.json' })), 'E_INVALID_ARGUMENT');
  assert.is(env.progress.length, before, 'no build was started');
  assert.is(env.store.listImages().length, 1);
});

test('a failing build (nonexistent package) registers nothing and leaves no temp files', async () => {
  try {
    await svc.build({ name: 'broken', from: 'busybox', packages: ['banger-no-such-package'] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_BUILD_FAILED');
    assert.match((e as Error).message, /fetch packages/);
  }
  const last = env.progress[env.progress.length - 1];
  assert.is(last.state, 'failed');
  assert.ok(last.error);
  assertNoLeftovers('broken');
  assert.ok(svc.listBuilds().some((b) => b.name === 'broken' && b.state === 'failed'));
});

test('cancelling through cancel(buildId) midway leaves nothing', async () => {
  let id = '';
  const emit = env.deps.emit;
  const svc2: ImageService = new ImageService({
    ...env.deps,
    emit: (p) => {
      emit(p);
      // phase events are synchronous: cancel right as the rootfs is being assembled
      if (p.name === 'cancelme' && p.phase === 'assemble rootfs' && !id) {
        id = p.id;
        svc2.cancel(p.id);
      }
    },
  });
  assert.is(await code(svc2.build({ name: 'cancelme', from: 'busybox', size: '64M' })), 'E_CANCELLED');
  assert.ok(id, 'cancelled during assemble rootfs');
  assert.is(svc2.listBuilds().find((b) => b.id === id)!.state, 'cancelled');
  assertNoLeftovers('cancelme');
  assert.is(await code(Promise.resolve().then(() => svc2.cancel(id))), 'E_INVALID_STATE');
  assert.is(await code(Promise.resolve().then(() => svc2.cancel('nope'))), 'E_NOT_FOUND');
});

test('an AbortSignal cancels a build, even at the last step', async () => {
  const ac = new AbortController();
  const emit = env.deps.emit;
  const svc2 = new ImageService({
    ...env.deps,
    emit: (p) => {
      emit(p);
      if (p.phase === 'register' && p.state === 'running') ac.abort();
    },
  });
  assert.is(await code(svc2.build({ name: 'late', from: 'busybox', size: '64M' }, ac.signal)), 'E_CANCELLED');
  assertNoLeftovers('late');
});

test('a name registered by someone else during the build: the moved image file is undone', async () => {
  const emit = env.deps.emit;
  const svc2 = new ImageService({
    ...env.deps,
    emit: (p) => {
      emit(p);
      if (p.name === 'race' && p.phase === 'register' && p.state === 'running') {
        env.store.insertImage({
          name: 'race',
          source: 'other',
          path: '/elsewhere',
          sizeBytes: 1,
          sha256: 'x',
          buildLog: null,
          createdAt: '',
        });
      }
    },
  });
  assert.is(await code(svc2.build({ name: 'race', from: 'busybox', size: '64M' })), 'E_NAME_TAKEN');
  assert.is(env.store.getImage('race')!.path, '/elsewhere');
  assert.not.ok(existsSync(join(env.paths.imagesDir, 'race.ext4')));
  env.store.deleteImage('race');
});

function minimalTree(dir: string): void {
  for (const d of ['bin', 'etc', 'root']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  symlinkSync('busybox', join(dir, 'bin/sh'));
  writeFileSync(join(dir, 'etc/motd'), 'imported tree\n');
  mkdirSync(join(dir, 'root/.ssh'), { recursive: true });
  writeFileSync(join(dir, 'root/.ssh/authorized_keys'), 'ssh-ed25519 AAAAexisting user@host\n');
  // a hostile absolute symlink: customization must write inside the rootfs, not on the host
  symlinkSync('/etc', join(dir, 'hostetc'));
  symlinkSync(join(env.dir, 'outside-target'), join(dir, 'etc/inittab'));
}

test('import from a directory customizes the tree and keeps existing content', async () => {
  const src = join(env.dir, 'tree');
  minimalTree(src);
  writeFileSync(join(env.dir, 'outside-target'), 'untouched\n');
  const rec = await svc.import({ name: 'fromdir', path: src });
  assert.match(rec.source, /^import:dir:/);
  assert.is(rec.init, 'busybox');
  assert.is(await debugfsCat(env.runner, rec.path, '/etc/motd'), 'imported tree\n');
  assert.match(await debugfsCat(env.runner, rec.path, '/etc/inittab'), /::ctrlaltdel:\/sbin\/reboot/);
  assert.is(
    readFileSync(join(env.dir, 'outside-target'), 'utf8'),
    'untouched\n',
    'symlink target outside the rootfs untouched',
  );
  const keys = await debugfsCat(env.runner, rec.path, '/root/.ssh/authorized_keys');
  assert.match(keys, /AAAAexisting user@host/);
  assert.ok(keys.includes(readFileSync(`${env.paths.sshKey}.pub`, 'utf8').trim()));
  assert.match(await debugfsStat(env.runner, rec.path, '/sbin/init'), /Type: symlink/);
  assert.match(await debugfsStat(env.runner, rec.path, '/usr/sbin/dropbear'), /Type: regular/, 'dropbear installed');
  assert.not.ok(existsSync(join(src, 'etc/banger')), 'the source tree is not modified');
});

test('import from a tarball and from an ext4 image', async () => {
  const src = join(env.dir, 'tree2');
  minimalTree(src);
  const tar = join(env.dir, 'rootfs.tar.gz');
  await env.runner.run(['tar', '-czf', tar, '-C', src, '.']);
  const t = await svc.import({ name: 'fromtar', path: tar, size: '128M' });
  assert.match(t.source, /^import:tar:/);
  assert.is(t.sizeBytes, 128 * 1024 ** 2);
  assert.is(await debugfsCat(env.runner, t.path, '/etc/motd'), 'imported tree\n');
  assert.match(await debugfsCat(env.runner, t.path, '/etc/init.d/rcS'), /BANGER|ready/);

  const e = await svc.import({ name: 'fromext4', path: built });
  assert.match(e.source, /^import:ext4:/);
  assert.is(e.sizeBytes, 256 * 1024 ** 2);
  assert.match(await debugfsCat(env.runner, e.path, '/etc/inittab'), /ttyS0::respawn/);
  assert.match(await debugfsStat(env.runner, e.path, '/bin/busybox'), /Type: regular/);

  const junk = join(env.dir, 'junk.bin');
  writeFileSync(junk, 'not an archive at all');
  assert.is(await code(svc.import({ name: 'junk', path: junk })), 'E_INVALID_ARGUMENT');
  assertNoLeftovers('junk');
});

test('image rm is refused while a VM uses it, then removes row and file', async () => {
  env.store.insertVm(vmRow('user1', 'fromtar', null));
  assert.is(await code(svc.remove('fromtar')), 'E_IN_USE');
  assert.ok(existsSync(join(env.paths.imagesDir, 'fromtar.ext4')));
  env.store.deleteVm('id-user1');
  await svc.remove('fromtar');
  assert.is(env.store.getImage('fromtar'), null);
  assert.not.ok(existsSync(join(env.paths.imagesDir, 'fromtar.ext4')));
  assert.is(await code(svc.remove('fromtar')), 'E_UNKNOWN_IMAGE');
});

test.run();
