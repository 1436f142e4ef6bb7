import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAddrs, parseRoutes } from '../../../app/engine/network/routes.js';
import { formatCidr } from '../../../app/engine/network/cidr.js';

// Shapes as printed by iproute2 6.x `ip -j -4 route show` / `ip -j -4 addr show`.
const routes = JSON.stringify([
  { dst: 'default', gateway: '192.168.1.1', dev: 'eth0', protocol: 'dhcp', flags: [] },
  { dst: '192.168.1.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.168.1.7', flags: [] },
  { dst: '10.8.0.5', dev: 'tun0', flags: [] },
  { type: 'blackhole', dst: '10.66.0.0/16', flags: [] },
]);
const addrs = JSON.stringify([
  { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifindex: 2, ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.168.1.7', prefixlen: 24 }] },
  { ifindex: 3, ifname: 'banger0', addr_info: [{ family: 'inet', local: '172.30.0.1', prefixlen: 24 }] },
]);

test('routes: default skipped, host routes become /32, blackholes count', () => {
  const r = parseRoutes(routes);
  assert.equal(
    r.map((x) => [x.prefix, x.dev, formatCidr(x.cidr)]),
    [
      ['192.168.1.0/24', 'eth0', '192.168.1.0/24'],
      ['10.8.0.5/32', 'tun0', '10.8.0.5/32'],
      ['10.66.0.0/16', null, '10.66.0.0/16'],
    ],
  );
});

test('addresses: connected prefixes per link, loopback skipped', () => {
  const a = parseAddrs(addrs);
  assert.equal(
    a.map((x) => [x.prefix, x.dev, formatCidr(x.cidr)]),
    [
      ['192.168.1.7/24', 'eth0', '192.168.1.0/24'],
      ['172.30.0.1/24', 'banger0', '172.30.0.0/24'],
    ],
  );
});

test('empty output parses to nothing; garbage is E_NETWORK', () => {
  assert.equal(parseRoutes(''), []);
  assert.equal(parseAddrs('[]'), []);
  try {
    parseRoutes('not json');
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'E_NETWORK');
  }
});

test.run();
