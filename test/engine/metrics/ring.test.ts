import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingBuffer } from '../../../app/engine/metrics/ring.js';
import { BangerError } from '../../../app/base/errors.js';

test('empty ring', () => {
  const r = new RingBuffer<number>(3);
  assert.is(r.size, 0);
  assert.is(r.last(), undefined);
  assert.equal(r.toArray(), []);
});

test('keeps its bound and returns oldest first', () => {
  const r = new RingBuffer<number>(4);
  for (let i = 1; i <= 3; i++) r.push(i);
  assert.equal(r.toArray(), [1, 2, 3]);
  for (let i = 4; i <= 1000; i++) {
    r.push(i);
    assert.ok(r.size <= 4);
  }
  assert.is(r.size, 4);
  assert.equal(r.toArray(), [997, 998, 999, 1000]);
  assert.is(r.last(), 1000);
});

test('toArray is a copy; clear empties', () => {
  const r = new RingBuffer<number>(2);
  r.push(1);
  const a = r.toArray();
  a.push(99);
  assert.equal(r.toArray(), [1]);
  r.push(2);
  r.push(3);
  r.clear();
  assert.is(r.size, 0);
  r.push(5);
  assert.equal(r.toArray(), [5]);
});

test('capacity 1 holds only the newest', () => {
  const r = new RingBuffer<string>(1);
  r.push('a');
  r.push('b');
  assert.equal(r.toArray(), ['b']);
  assert.is(r.last(), 'b');
});

test('bad capacity is a BangerError', () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    try {
      new RingBuffer(bad);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, BangerError);
      assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
    }
  }
});

test.run();
