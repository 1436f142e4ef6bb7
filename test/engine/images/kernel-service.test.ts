import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KernelService } from '../../../app/engine/images/kernel-service.js';
import { extractVmlinux, isElf } from '../../../app/engine/images/vmlinux.js';
import { assetPath } from '../../../app/engine/images/assets.js';
import { BangerError } from '../../../app/base/errors.js';
import { makeEnv, vmRow, type Env } from './helpers.js';

let env: Env;
let svc: KernelService;

test.before(() => {
  env = makeEnv();
  svc = new KernelService(env.deps);
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

test('kernel add refuses a non-ELF file (e.g. a bzImage) and registers nothing', async () => {
  const fake = join(env.dir, 'bzImage');
  writeFileSync(fake, Buffer.concat([Buffer.alloc(0x202), Buffer.from('HdrS'), Buffer.alloc(512)]));
  try {
    await svc.add({ name: 'fake', path: fake });
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_INVALID_KERNEL');
    assert.match((e as Error).message, /not an ELF vmlinux/);
  }
  assert.is(env.store.getKernel('fake'), null);
  assert.not.ok(existsSync(join(env.paths.kernelsDir, 'fake')));
  assert.is(await code(svc.add({ name: 'x', path: join(env.dir, 'missing') })), 'E_NOT_FOUND');
  assert.is(await code(svc.add({ name: 'Bad/Name', path: '/bin/true' })), 'E_INVALID_NAME');
  assert.is(await code(svc.add({ name: 'x', path: '/bin/true', initrd: join(env.dir, 'nope') })), 'E_NOT_FOUND');
  // Relative paths would be the engine's working directory's: refused (the CLI resolves them).
  assert.is(await code(svc.add({ name: 'x', path: 'bin/true' })), 'E_INVALID_ARGUMENT');
  assert.is(await code(svc.add({ name: 'x', path: '/bin/true', initrd: 'package.json' })), 'E_INVALID_ARGUMENT');
});

test('kernel add refuses an ELF Firecracker cannot boot here: 32-bit, or another architecture', async () => {
  const elf = (cls: number, machine: number) => {
    const h = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, cls, 1, 1]).copy(h);
    h.writeUInt16LE(machine, 18);
    return h;
  };
  const arm = join(env.dir, 'vmlinux-arm64');
  writeFileSync(arm, elf(2, process.arch === 'arm64' ? 0x3e : 0xb7));
  const i386 = join(env.dir, 'vmlinux-i386');
  writeFileSync(i386, elf(1, 3));
  for (const path of [arm, i386]) {
    try {
      await svc.add({ name: 'wrong', path });
      assert.unreachable();
    } catch (e) {
      assert.is((e as BangerError).code, 'E_INVALID_KERNEL', String(e));
      assert.match((e as Error).message, /32-bit|not (x86-64|aarch64)/);
    }
  }
  assert.is(env.store.getKernel('wrong'), null, 'nothing registered');
});

test('kernel add copies an ELF and its initrd; rm refused while in use', async () => {
  const initrd = join(env.dir, 'initrd.img');
  writeFileSync(initrd, 'initrd bytes');
  const k = await svc.add({ name: 'mine', path: '/bin/true', initrd });
  assert.is(k.path, join(env.paths.kernelsDir, 'mine', 'vmlinux'));
  assert.ok(isElf(k.path));
  assert.equal(readFileSync(k.path), readFileSync('/bin/true'));
  assert.is(readFileSync(k.initrdPath!, 'utf8'), 'initrd bytes');
  assert.equal(
    svc.list().map((x) => x.name),
    ['mine'],
  );
  assert.is(await code(svc.add({ name: 'mine', path: '/bin/true' })), 'E_NAME_TAKEN');
  env.store.insertVm(vmRow('kuser', null, 'mine'));
  assert.is(await code(svc.remove('mine')), 'E_IN_USE');
  assert.ok(existsSync(k.path));
  env.store.deleteVm('id-kuser');
  await svc.remove('mine');
  assert.not.ok(existsSync(join(env.paths.kernelsDir, 'mine')));
  assert.is(await code(svc.remove('mine')), 'E_UNKNOWN_KERNEL');
});

test('extractVmlinux finds nothing in a file without a compressed kernel', async () => {
  const junk = join(env.dir, 'junk');
  writeFileSync(junk, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), Buffer.alloc(4096, 7)]));
  assert.is(await extractVmlinux(env.runner, junk, join(env.dir, 'out'), env.dir), null);
  assert.not.ok(existsSync(join(env.dir, 'out')));
});

test('kernel fetch: Debian cloud kernel as an ELF vmlinux plus a gzip cpio initramfs', async () => {
  const k = await svc.fetch('cloud');
  assert.match(k.source, /^debian:linux-image-.*-cloud-amd64$/);
  assert.match(k.version!, /^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
  const elf = await env.runner.run(['readelf', '-h', k.path]);
  assert.match(elf.stdout, /Type:\s+EXEC/);
  assert.match(elf.stdout, /Machine:\s+Advanced Micro Devices X86-64/);
  const notes = await env.runner.run(['readelf', '-n', k.path]);
  assert.match(notes.stdout, /Xen|PVH|0x00000012/, 'PVH entry note present (QEMU microvm boots it)');

  const gz = readFileSync(k.initrdPath!);
  assert.equal([...gz.subarray(0, 2)], [0x1f, 0x8b]);
  const cpio = join(env.dir, 'initrd.cpio');
  writeFileSync(cpio, gunzipSync(gz));
  const list = (await env.runner.run(['cpio', '-it', '--quiet', '-F', cpio])).stdout.split('\n');
  for (const f of [
    'init',
    'bin/busybox',
    'bin/switch_root',
    'lib/modules/order',
    'lib/modules/virtio_blk.ko',
    'lib/modules/virtio_net.ko',
    'lib/modules/virtio_mmio.ko',
  ])
    assert.ok(list.includes(f), `initramfs has ${f}`);
  const x = join(env.dir, 'x');
  await env.runner.run(['mkdir', '-p', x]);
  await env.runner.run(
    ['cpio', '-id', '--quiet', '-F', cpio, 'init', 'lib/modules/order', 'lib/modules/virtio_blk.ko'],
    { cwd: x },
  );
  assert.is(readFileSync(join(x, 'init'), 'utf8'), readFileSync(assetPath('initramfs-init.sh'), 'utf8'));
  const order = readFileSync(join(x, 'lib/modules/order'), 'utf8').trim().split('\n');
  assert.ok(order.indexOf('virtio_ring') < order.indexOf('virtio_blk'), 'dependencies load first');
  assert.ok(isElf(join(x, 'lib/modules/virtio_blk.ko')), 'modules are stored decompressed');
  const build = env.progress.filter((p) => p.kind === 'kernel' && p.name === 'cloud');
  assert.is(build[build.length - 1].state, 'done');
  assert.is(await code(svc.fetch('cloud')), 'E_NAME_TAKEN');
  assert.equal(
    (await import('node:fs')).readdirSync(env.paths.buildsDir).filter((f) => !f.endsWith('.log')),
    [],
  );
});

test.run();
