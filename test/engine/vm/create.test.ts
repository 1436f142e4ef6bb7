// Each validation rule: the exact code and message, and nothing written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../../app/engine/wiring.js';
import { Store } from '../../../app/engine/store.js';
import { ensureBaseDirs } from '../../../app/base/paths.js';
import { hostMemoryMib } from '../../../app/contract/vm-spec.js';
import { parseSize } from '../../../app/contract/size.js';
import { tmpState, type TmpState } from '../../helpers/tmp.js';
import type { Engine } from '../../../app/engine/engine.js';
import type { VmCreateInput } from '../../../app/contract/api.js';
import { nullLogger } from '../../../app/base/log.js';

let t: TmpState;
let engine: Engine;
let store: Store;

test.before.each(() => {
  t = tmpState();
  ensureBaseDirs(t.paths);
  store = new Store(t.paths.dbFile);
  engine = createEngine({ env: t.env, logger: nullLogger, store });
});
test.after.each(async () => {
  store.close();
  t.cleanup();
});

async function refused(input: VmCreateInput, code: string, message: string): Promise<void> {
  const dirsBefore = readdirSync(t.paths.vmsDir);
  const before = store.db
    .prepare('SELECT (SELECT count(*) FROM vms) + (SELECT count(*) FROM events) + (SELECT count(*) FROM leases) AS n')
    .get() as { n: number };
  try {
    await engine.createVm(input);
    assert.unreachable('should have been refused');
  } catch (e) {
    const err = e as { code: string; message: string };
    assert.is(err.code, code);
    assert.is(err.message, message);
  }
  const after = store.db
    .prepare('SELECT (SELECT count(*) FROM vms) + (SELECT count(*) FROM events) + (SELECT count(*) FROM leases) AS n')
    .get() as { n: number };
  assert.is(after.n, before.n, 'nothing was written');
  assert.equal(readdirSync(t.paths.vmsDir), dirsBefore, 'no VM dir was made');
}

const NAME_MSG = (n: string) =>
  `invalid VM name "${n}": use 1-63 characters of a-z, 0-9 and "-", not starting or ending with "-"`;

test('name: empty is refused', () => refused({ name: '' }, 'E_INVALID_NAME', NAME_MSG('')));
test('name: leading hyphen is refused', () => refused({ name: '-dev' }, 'E_INVALID_NAME', NAME_MSG('-dev')));
test('name: trailing hyphen is refused', () => refused({ name: 'dev-' }, 'E_INVALID_NAME', NAME_MSG('dev-')));
test('name: characters outside a-z0-9- are refused', () =>
  refused({ name: 'dev_box' }, 'E_INVALID_NAME', NAME_MSG('dev_box')));
test('name: a dot (it would make a sub-zone) is refused', () =>
  refused({ name: 'a.b' }, 'E_INVALID_NAME', NAME_MSG('a.b')));
test('name: 64 characters is refused, 63 is fine', async () => {
  await refused({ name: 'a'.repeat(64) }, 'E_INVALID_NAME', NAME_MSG('a'.repeat(64)));
  const vm = await engine.createVm({ name: 'a'.repeat(63) });
  assert.is(vm.name.length, 63);
});
test('name: case is folded', async () => {
  const vm = await engine.createVm({ name: 'DevBox' });
  assert.is(vm.name, 'devbox');
  await refused({ name: 'DEVBOX' }, 'E_NAME_TAKEN', 'a VM named "devbox" already exists');
});
test('vcpus: 0 and 33 are refused', async () => {
  await refused(
    { name: 'v', vcpus: 0 },
    'E_INVALID_VCPUS',
    'invalid vCPU count "0": must be a whole number from 1 to 32',
  );
  await refused(
    { name: 'v', vcpus: 33 },
    'E_INVALID_VCPUS',
    'invalid vCPU count "33": must be a whole number from 1 to 32',
  );
  await refused(
    { name: 'v', vcpus: 1.5 },
    'E_INVALID_VCPUS',
    'invalid vCPU count "1.5": must be a whole number from 1 to 32',
  );
});
test('memory: below 128 MiB and above host memory are refused', async () => {
  const max = hostMemoryMib();
  await refused(
    { name: 'm', memoryMib: 127 },
    'E_INVALID_MEMORY',
    `invalid memory "127" MiB: must be a whole number from 128 to ${max} (host memory)`,
  );
  await refused(
    { name: 'm', memoryMib: max + 1 },
    'E_INVALID_MEMORY',
    `invalid memory "${max + 1}" MiB: must be a whole number from 128 to ${max} (host memory)`,
  );
});
test('disk: unparseable and too small sizes are refused', async () => {
  await refused(
    { name: 'd', disk: '4Q' },
    'E_INVALID_SIZE',
    'invalid size "4Q": use a number with an optional K, M, G or T suffix (e.g. 512M, 4G)',
  );
  await refused({ name: 'd', disk: '1M' }, 'E_INVALID_SIZE', 'invalid disk size "1M": must be at least 64M');
});
test('disk: sizes parse from 512M / 4G', () => {
  assert.is(parseSize('512M'), 512 * 1024 ** 2);
  assert.is(parseSize('4G'), 4 * 1024 ** 3);
  assert.is(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.is(parseSize('2GiB'), 2 * 1024 ** 3);
});
test('backend: unknown backends are refused', () =>
  refused({ name: 'b', backend: 'xen' }, 'E_INVALID_BACKEND', 'unknown backend "xen": use firecracker or qemu'));
test('image: an unknown image is refused', () =>
  refused({ name: 'i', image: 'nope' }, 'E_UNKNOWN_IMAGE', 'unknown image "nope" (see banger image ls)'));
test('kernel: an unknown kernel is refused', () =>
  refused({ name: 'k', kernel: 'nope' }, 'E_UNKNOWN_KERNEL', 'unknown kernel "nope" (see banger kernel ls)'));
test('a valid spec is stored with defaults and a locally administered MAC', async () => {
  const kpath = join(t.root, 'vmlinux');
  writeFileSync(kpath, '\x7fELF');
  await engine.addKernel({ name: 'k', path: kpath });
  const vm = await engine.createVm({ name: 'ok', vcpus: 2, memoryMib: 512, disk: '2G' });
  assert.is(vm.state, 'created');
  assert.is(vm.kernel, 'k', 'the only kernel is the default');
  assert.is(vm.diskBytes, 2 * 1024 ** 3);
  assert.match(vm.id, /^[0-9a-f]{12}$/);
  const first = parseInt(vm.mac.slice(0, 2), 16);
  assert.ok(first & 0x02, 'locally administered');
  assert.not.ok(first & 0x01, 'unicast');
  assert.equal(await engine.getVm('OK'), vm);
});

test.run();
