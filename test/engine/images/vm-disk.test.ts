import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createVmDisk } from '../../../app/engine/images/vm-disk.js';
import { ext4Geometry } from '../../../app/engine/images/ext4.js';
import { BangerError } from '../../../app/base/errors.js';
import { makeEnv, debugfsCat, type Env } from './helpers.js';

let env: Env;
let img: string;

test.before(async () => {
  env = makeEnv();
  const tree = join(env.dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc/marker'), 'from the image\n');
  img = join(env.dir, 'base.ext4');
  await env.runner.run(['mkfs.ext4', '-q', '-F', '-L', 'bangerroot', '-d', tree, img, '64M']);
});
test.after(() => env.cleanup());

test('per-VM disk is a copy grown to the requested size', async () => {
  const dest = join(env.dir, 'vm1.ext4');
  const before = await ext4Geometry(env.runner, img);
  assert.is(before.bytes, 64 * 1024 ** 2);
  await createVmDisk(env.runner, img, dest, 512 * 1024 ** 2);
  assert.is(statSync(dest).size, 512 * 1024 ** 2);
  const g = await ext4Geometry(env.runner, dest);
  assert.is(g.blockCount * g.blockSize, 512 * 1024 ** 2);
  assert.is(await debugfsCat(env.runner, dest, '/etc/marker'), 'from the image\n');
  // the image itself is untouched
  assert.is((await ext4Geometry(env.runner, img)).bytes, 64 * 1024 ** 2);
  // sparse: far fewer blocks allocated than the apparent size
  assert.ok(statSync(dest).blocks * 512 < 64 * 1024 ** 2);
});

test('same size: a plain copy', async () => {
  const dest = join(env.dir, 'vm2.ext4');
  await createVmDisk(env.runner, img, dest, 64 * 1024 ** 2);
  assert.is((await ext4Geometry(env.runner, dest)).bytes, 64 * 1024 ** 2);
});

test('shrinking below the image size is refused and creates nothing', async () => {
  const dest = join(env.dir, 'vm3.ext4');
  try {
    await createVmDisk(env.runner, img, dest, 32 * 1024 ** 2);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BangerError);
    assert.is((e as BangerError).code, 'E_INVALID_SIZE');
  }
  assert.not.ok(existsSync(dest));
});

test('a failing step removes the partial disk', async () => {
  const dest = join(env.dir, 'nodir', 'vm4.ext4'); // cp cannot create it
  try {
    await createVmDisk(env.runner, img, dest, 128 * 1024 ** 2);
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_COMMAND_FAILED');
  }
  const bad = join(env.dir, 'notext4.img');
  writeFileSync(bad, Buffer.alloc(1024 * 1024));
  const d2 = join(env.dir, 'vm5.ext4');
  try {
    await createVmDisk(env.runner, bad, d2, 4 * 1024 * 1024);
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_COMMAND_FAILED');
  }
  assert.not.ok(existsSync(d2), 'partial disk removed');
});

test.run();
