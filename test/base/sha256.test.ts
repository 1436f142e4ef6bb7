import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from '../../app/base/sha256.js';

const ref = (s: string) => createHash('sha256').update(s).digest('hex');

test('matches node:crypto on the FIPS examples and across block boundaries', () => {
  assert.is(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.is(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (let n = 0; n <= 200; n++) assert.is(sha256Hex('x'.repeat(n)), ref('x'.repeat(n)), `length ${n}`);
});

test('matches node:crypto on random UTF-8 paths', () => {
  for (let i = 0; i < 300; i++) {
    const s = `/home/${randomBytes(1 + (i % 90)).toString('base64')}/é/ß/${i}`;
    assert.is(sha256Hex(s), ref(s), s);
  }
});

test.run();
