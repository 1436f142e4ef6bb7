import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IFNAME_MAX, isOurTap, kernelIpArg, macFor, tapName } from '../../../app/engine/network/identity.js';
import { BangerError } from '../../../app/base/errors.js';

const ids = ['0123456789ab', 'ffffffffffffffffffff', 'a1b2c3d4e5f60718', 'deadbeefcafe'];

test('TAP name: bgr- plus 6 hex of the id, within IFNAMSIZ', () => {
  for (const id of ids) {
    const n = tapName(id);
    assert.is(n, 'bgr-' + id.slice(0, 6));
    assert.ok(Buffer.byteLength(n) <= IFNAME_MAX);
    assert.ok(isOurTap(n));
  }
  assert.not.ok(isOurTap('tap0'));
  assert.not.ok(isOurTap('bgr-xyz123'));
  assert.not.ok(isOurTap('bgr-0123456'));
});

test('a bad VM id is E_INVALID_ARGUMENT', () => {
  for (const bad of ['', 'ABCDEF012345', '0123456789a', 'zzzzzzzzzzzz', '../../etc/pw']) {
    try {
      tapName(bad);
      assert.unreachable(bad);
    } catch (err) {
      assert.instance(err, BangerError);
      assert.is((err as BangerError).code, 'E_INVALID_ARGUMENT');
    }
  }
});

test('MAC: deterministic, per id, locally administered unicast', () => {
  const seen = new Set<string>();
  for (const id of ids) {
    const m = macFor(id);
    assert.is(m, macFor(id));
    assert.match(m, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const first = parseInt(m.slice(0, 2), 16);
    assert.ok(first & 0x02, 'locally administered bit set');
    assert.not.ok(first & 0x01, 'multicast bit clear');
    seen.add(m);
  }
  assert.is(seen.size, ids.length);
});

test('kernel ip= clause: static address, gateway as router and DNS', () => {
  assert.is(
    kernelIpArg({ ip: '172.30.0.2', gateway: '172.30.0.1', netmask: '255.255.255.0', hostname: 'dev' }),
    'ip=172.30.0.2::172.30.0.1:255.255.255.0:dev:eth0:off:172.30.0.1',
  );
  try {
    kernelIpArg({ ip: '1.1.1.2', gateway: '1.1.1.1', netmask: '255.0.0.0', hostname: 'a:b' });
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_INVALID_ARGUMENT');
  }
});

test.run();
