// debootstrap makes a root-owned tree. A root engine debootstraps into its build dir; a normal
// user's engine asks the entry point's debootstrap-image verb for an ext4 of the tree and
// unpacks that (refused up front, nothing made, when the entry point does not work). A
// privileged tree is removed the way it was made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageService } from '../../../app/engine/images/image-service.js';
import { DEBIAN_MIRROR, removeTree } from '../../../app/engine/images/debian-rootfs.js';
import { execFileSync } from 'node:child_process';
import { createRunner, type ProcessRunner, type RunOptions } from '../../../app/base/process.js';
import { BangerError } from '../../../app/base/errors.js';
import { IMAGE_SOURCES } from '../../../app/contract/api.js';
import { IMAGE_SOURCES as FORM_SOURCES } from '../../../app/screens/actions/images.js';
import { makeEnv, type Env } from './helpers.js';

let env: Env;
test.before(() => {
  env = makeEnv();
});
test.after(() => env.cleanup());

/** The real runner, recording each command (and whether it was privileged). */
function recording(base: ProcessRunner, fail?: (argv: string[]) => string | null) {
  const calls: { argv: string[]; privileged: boolean }[] = [];
  const runner: ProcessRunner = {
    ...base,
    isRoot: base.isRoot,
    async run(argv: string[], opts?: RunOptions) {
      calls.push({ argv, privileged: !!opts?.privileged });
      const why = fail?.(argv);
      if (why) throw new BangerError('E_COMMAND_FAILED', why);
      return base.run(argv, opts);
    },
  };
  return { runner, calls };
}

function fakeSudo(): { sudo: string; log: string } {
  const sudo = join(env.dir, 'fake-sudo');
  const log = join(env.dir, 'sudo.log');
  // Stands in for `sudo -n --` (we are root here): records the argv, then runs the command.
  writeFileSync(sudo, `#!/bin/sh\necho "$*" >> ${log}\n[ "$1" = -n ] && shift\n[ "$1" = -- ] && shift\nexec "$@"\n`, {
    mode: 0o755,
  });
  return { sudo, log };
}

test('a non-root engine without a working entry point refuses debian builds before doing anything', async () => {
  const { runner: rec, calls } = recording(createRunner({ isRoot: false }));
  const runner: ProcessRunner = {
    ...rec,
    checkPrivileged: async () => {
      throw new BangerError('E_SUDO_REQUIRED', 'sudo would prompt');
    },
  };
  const svc = new ImageService({ ...env.deps, runner });
  const before = env.progress.length;
  try {
    await svc.build({ name: 'deb', from: 'debian:bookworm' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BangerError);
    assert.is((e as BangerError).code, 'E_SUDO_REQUIRED');
    assert.match((e as Error).message, /debian images need root for debootstrap/);
    assert.match((e as Error).message, /banger setup sudoers --apply/);
  }
  assert.equal(calls, [], 'no command ran');
  assert.is(env.progress.length, before, 'no build started');
  assert.equal(readdirSync(env.paths.buildsDir), [], 'no log, no work dir');
  assert.is(env.store.getImage('deb'), null);
  // Bad input still gets its own error first.
  try {
    await svc.build({ name: 'Bad!', from: 'debian:bookworm' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_INVALID_NAME');
  }
});

test('as root the debian build goes ahead; a failed debootstrap leaves nothing behind', async () => {
  const { runner, calls } = recording(env.runner, (argv) =>
    argv[0] === 'debootstrap' ? 'debootstrap: stopped by the test' : null,
  );
  const svc = new ImageService({ ...env.deps, runner: { ...runner, isRoot: true } });
  try {
    await svc.build({ name: 'deb2', from: 'debian:bookworm' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_BUILD_FAILED');
    assert.match((e as Error).message, /during "debootstrap"/);
  }
  const deb = calls.find((c) => c.argv[0] === 'debootstrap')!;
  assert.ok(deb.privileged);
  assert.ok(deb.argv.includes('bookworm'));
  assert.equal(
    readdirSync(env.paths.buildsDir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('a non-root engine: debootstrap-image through the entry point, its ext4 unpacked, customized, registered', async () => {
  const { runner: rec, calls } = recording(createRunner({ isRoot: false }));
  let out = '';
  const runner: ProcessRunner = {
    ...rec,
    checkPrivileged: async () => undefined,
    async run(argv: string[], opts?: RunOptions) {
      if (argv[0] !== 'debootstrap-image') return rec.run(argv, opts);
      calls.push({ argv, privileged: !!opts?.privileged });
      // Stands in for the verb: a new ext4 file at OUT holding a debootstrapped-looking tree.
      out = argv[4];
      const tree = join(env.dir, 'deb-tree');
      for (const d of ['lib/systemd', 'etc/apt', 'root', 'sbin', 'usr/bin'])
        mkdirSync(join(tree, d), { recursive: true });
      writeFileSync(join(tree, 'lib/systemd/systemd'), '');
      writeFileSync(join(tree, 'etc/debian_version'), '12.0\n');
      execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, out, '32M']);
      opts?.onOutput?.('I: Retrieving Packages\n');
      return { argv, stdout: '', stderr: '', exitCode: 0 };
    },
  };
  const svc = new ImageService({ ...env.deps, runner });
  const img = await svc.build({ name: 'deb3', from: 'debian:bookworm', packages: ['curl'] });
  const call = calls.find((c) => c.argv[0] === 'debootstrap-image')!;
  assert.ok(call.privileged, 'through the privileged runner (the entry point)');
  assert.equal(call.argv.slice(0, 3), ['debootstrap-image', 'bookworm', DEBIAN_MIRROR]);
  assert.match(call.argv[3], /^systemd-sysv,udev,openssh-server,.*,curl$/);
  assert.ok(out.startsWith(env.paths.buildsDir + '/') && out.endsWith('/debootstrap.ext4'), out);
  assert.not.ok(
    calls.some((c) => c.argv[0] === 'debootstrap'),
    'no debootstrap of its own',
  );
  assert.is(img.init, 'systemd');
  assert.ok(existsSync(img.path));
  assert.equal(
    readdirSync(env.paths.buildsDir).filter((f) => f.endsWith('.tmp')),
    [],
    'the work dir (and the handed-back image) went',
  );
});

test('removeTree: a privileged tree is removed through the runner (sudo -n rm -rf) when not root', async () => {
  const { sudo, log } = fakeSudo();
  const { runner, calls } = recording(createRunner({ isRoot: false, sudo, entry: null }));
  const dir = join(env.dir, 'work.tmp');
  mkdirSync(join(dir, 'rootfs/etc'), { recursive: true });
  writeFileSync(join(dir, 'rootfs/etc/shadow'), 'root:*:1::::::\n', { mode: 0o640 });
  await removeTree(runner, dir, true);
  assert.not.ok(existsSync(dir));
  assert.equal(calls, [{ argv: ['rm', '-rf', '--one-file-system', '--', dir], privileged: true }]);
  assert.is(readFileSync(log, 'utf8').trim(), `-n -- rm -rf --one-file-system -- ${dir}`);
  // A tree we made ourselves (or as root) is removed directly, no command.
  mkdirSync(join(dir, 'x'), { recursive: true });
  await removeTree(runner, dir, false);
  assert.not.ok(existsSync(dir));
  assert.is(calls.length, 1);
});

test('one list of image sources for the engine and the build form', () => {
  assert.equal(FORM_SOURCES, [...IMAGE_SOURCES]);
  assert.ok(IMAGE_SOURCES.includes('busybox') && IMAGE_SOURCES.includes('debian:bookworm'));
});

test.run();
