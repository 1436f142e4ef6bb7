import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { VmRecord } from '../../../app/contract/api.js';
import { filterVms, parseFilter } from '../../../app/screens/state/filter.js';
import { clampViewport, moveSelection, reselect } from '../../../app/screens/widgets/viewport.js';

const mk = (name: string, state: VmRecord['state'], ip: string | null, backend: VmRecord['backend'] = 'firecracker') =>
  ({ name, state, ip, backend, image: 'busybox' }) as VmRecord;
const vms = [
  mk('web-1', 'running', '172.30.0.2'),
  mk('web-2', 'stopped', null, 'qemu'),
  mk('db', 'running', '172.30.0.9'),
];

test('bare terms match any field, all terms must match', () => {
  assert.equal(
    filterVms(vms, 'web').map((v) => v.name),
    ['web-1', 'web-2'],
  );
  assert.equal(
    filterVms(vms, 'WEB running').map((v) => v.name),
    ['web-1'],
  );
  assert.equal(
    filterVms(vms, '0.9').map((v) => v.name),
    ['db'],
  );
  assert.equal(filterVms(vms, '  ').length, 3);
  assert.equal(filterVms(vms, 'nothing').length, 0);
});

test('field:value matches one field', () => {
  assert.equal(
    filterVms(vms, 'state:run').map((v) => v.name),
    ['web-1', 'db'],
  );
  assert.equal(
    filterVms(vms, 'backend:qemu').map((v) => v.name),
    ['web-2'],
  );
  assert.equal(filterVms(vms, 'name:db state:stopped'), []);
  assert.equal(parseFilter('foo:bar'), [{ field: null, value: 'foo:bar' }]);
});

test('viewport keeps the selection visible and in range', () => {
  assert.equal(clampViewport({ selected: 50, offset: 0 }, 1000, 20), { selected: 50, offset: 31 });
  assert.equal(clampViewport({ selected: 5, offset: 10 }, 1000, 20), { selected: 5, offset: 5 });
  assert.equal(clampViewport({ selected: 5000, offset: 0 }, 1000, 20), { selected: 999, offset: 980 });
  assert.equal(clampViewport({ selected: 3, offset: 3 }, 0, 20), { selected: 0, offset: 0 });
  assert.equal(moveSelection({ selected: 0, offset: 0 }, -1, 10, 5), { selected: 0, offset: 0 });
  assert.equal(moveSelection({ selected: 4, offset: 0 }, 1, 10, 5), { selected: 5, offset: 1 });
});

test('reselect follows the same item after the list changes', () => {
  const names = ['a', 'b', 'c'];
  assert.is(
    reselect(names, (x) => x, 'c', 0),
    2,
  );
  assert.is(
    reselect(['x', ...names], (x) => x, 'c', 0),
    3,
  );
  assert.is(
    reselect(['a'], (x) => x, 'gone', 5),
    0,
  );
});

test.run();
