import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  broadcast,
  contains,
  formatCidr,
  formatIp,
  gatewayOf,
  guestAddresses,
  guestCapacity,
  looseCidr,
  netmask,
  overlaps,
  parseCidr,
  parseIp,
  assertUsableSubnet,
} from '../../../app/engine/network/cidr.js';
import { BangerError } from '../../../app/base/errors.js';

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof BangerError ? err.code : 'NOT_BANGER';
  }
}

test('ip round-trips through numbers, including the top bit', () => {
  for (const s of ['0.0.0.0', '10.0.0.1', '172.30.0.255', '255.255.255.255', '192.168.100.7']) {
    assert.is(formatIp(parseIp(s)), s);
  }
  assert.is(parseIp('255.255.255.255'), 0xffffffff);
});

test('bad addresses and CIDRs are E_INVALID_ARGUMENT', () => {
  for (const s of ['1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5', ''])
    assert.is(
      code(() => parseIp(s)),
      'E_INVALID_ARGUMENT',
      s,
    );
  for (const s of ['172.30.0.0', '172.30.0.0/33', '172.30.0.0/x', '172.30.0.1/24'])
    assert.is(
      code(() => parseCidr(s)),
      'E_INVALID_ARGUMENT',
      s,
    );
});

test('host bits set: the message suggests the network', () => {
  try {
    parseCidr('172.30.0.9/24');
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, '172.30.0.0/24');
  }
});

test('gateway, netmask, broadcast of a /24 and a /29', () => {
  const a = parseCidr('172.30.0.0/24');
  assert.is(formatIp(gatewayOf(a)), '172.30.0.1');
  assert.is(netmask(a), '255.255.255.0');
  assert.is(formatIp(broadcast(a)), '172.30.0.255');
  const b = parseCidr('10.1.2.8/29');
  assert.is(formatIp(gatewayOf(b)), '10.1.2.9');
  assert.is(netmask(b), '255.255.255.248');
  assert.is(formatIp(broadcast(b)), '10.1.2.15');
  assert.is(netmask(parseCidr('10.0.0.0/8')), '255.0.0.0');
});

test('guest addresses skip network, gateway and broadcast, in order', () => {
  assert.equal([...guestAddresses(parseCidr('10.1.2.8/29'))].map(formatIp), [
    '10.1.2.10',
    '10.1.2.11',
    '10.1.2.12',
    '10.1.2.13',
    '10.1.2.14',
  ]);
  assert.is(guestCapacity(parseCidr('10.1.2.8/29')), 5);
  const all = [...guestAddresses(parseCidr('172.30.0.0/24'))];
  assert.is(all.length, 253);
  assert.is(guestCapacity(parseCidr('172.30.0.0/24')), 253);
  assert.is(formatIp(all[0]), '172.30.0.2');
  assert.is(formatIp(all[all.length - 1]), '172.30.0.254');
  assert.is(guestCapacity(parseCidr('10.0.0.0/30')), 1);
});

test('too-small subnets are refused', () => {
  assert.is(
    code(() => assertUsableSubnet(parseCidr('10.0.0.0/31'), '10.0.0.0/31')),
    'E_INVALID_ARGUMENT',
  );
  assert.is(
    code(() => assertUsableSubnet(parseCidr('10.0.0.0/30'), '10.0.0.0/30')),
    null,
  );
});

test('overlap: containment either way, disjoint neighbours do not', () => {
  const p = (s: string) => looseCidr(s);
  assert.ok(overlaps(p('10.99.0.0/16'), p('10.99.0.1/24')));
  assert.ok(overlaps(p('10.99.0.0/24'), p('10.99.0.0/16')));
  assert.ok(overlaps(p('172.30.0.0/24'), p('172.30.0.77')));
  assert.ok(overlaps(p('0.0.0.0/0'), p('1.2.3.4/32')));
  assert.not.ok(overlaps(p('172.30.0.0/24'), p('172.30.1.0/24')));
  assert.not.ok(overlaps(p('10.0.0.0/8'), p('11.0.0.0/8')));
  assert.not.ok(overlaps(p('172.30.0.0/25'), p('172.30.0.128/25')));
});

test('looseCidr tolerates host bits and a missing prefix', () => {
  assert.is(formatCidr(looseCidr('10.99.0.1/24')), '10.99.0.0/24');
  assert.is(formatCidr(looseCidr('10.99.0.1')), '10.99.0.1/32');
  assert.ok(contains(looseCidr('10.99.0.0/24'), parseIp('10.99.0.200')));
  assert.not.ok(contains(looseCidr('10.99.0.0/24'), parseIp('10.99.1.0')));
});

test.run();
