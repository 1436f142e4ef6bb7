// The guest-facing DNS listener when it cannot bind: retried until it can, and meanwhile
// guests are handed the host's resolvers (in their ip= clause), which `status` reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsPortAdapter } from '../../app/engine/dns-port.js';
import { withGatewayDns } from '../../app/engine/wiring.js';
import { hostResolvers } from '../../app/dns/guest-resolvers.js';
import { withDnsServers, kernelIpArg } from '../../app/engine/network/identity.js';
import type { NetworkPort } from '../../app/engine/ports.js';
import { nullLogger } from '../../app/base/log.js';
import { ask } from '../dns/helpers.js';

async function waitUntil(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Hold a UDP port on loopback (as a dnsmasq on :53 would) until released. */
async function holdPort(): Promise<{ port: number; sock: Socket }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, sock };
}

test('gateway listener down: guests get the host resolvers; retried until it binds, then the gateway', async () => {
  const { port, sock } = await holdPort();
  const dns = new DnsPortAdapter({
    zone: 'vm',
    host: '127.0.0.1',
    port: 0,
    logger: nullLogger,
    gatewayPort: port,
    retryMs: 50,
    retryMaxMs: 200,
    hostResolvers: () => ['192.0.2.53', '198.51.100.53'],
  });
  await dns.start();
  try {
    dns.upsert('vm1', '172.30.0.2');
    await dns.addGatewayListener('127.0.0.1', '127.0.0.0/8');
    assert.is(dns.gatewayUp(), false, 'the port is taken');
    assert.equal(dns.guestResolvers('127.0.0.1'), { via: 'host', servers: ['192.0.2.53', '198.51.100.53'] });
    const down = dns.status();
    assert.equal(down.guests, { via: 'host', servers: ['192.0.2.53', '198.51.100.53'] });
    assert.ok(down.listeners.some((l) => l.port === port && !l.up && l.error));

    await new Promise<void>((r) => sock.close(() => r()));
    await waitUntil('the gateway listener to be retried and bound', () => dns.gatewayUp());
    assert.equal(dns.status().guests, { via: 'gateway', servers: ['127.0.0.1'] });
    const { p } = await ask(port, 'vm1.vm');
    assert.equal(
      p.answers.map((a) => a.data),
      ['172.30.0.2'],
      'it answers with the records set while it was down',
    );
  } finally {
    await dns.stop();
  }
});

test('no host resolver a guest can use: the gateway is kept (it answers once a retry binds it)', async () => {
  const { port, sock } = await holdPort();
  const dns = new DnsPortAdapter({
    zone: 'vm',
    host: '127.0.0.1',
    port: 0,
    logger: nullLogger,
    gatewayPort: port,
    retryMs: 10_000,
    hostResolvers: () => [],
  });
  await dns.start();
  try {
    await dns.addGatewayListener('127.0.0.1', '127.0.0.0/8');
    assert.equal(dns.guestResolvers('172.30.0.1'), { via: 'gateway-down', servers: ['172.30.0.1'] });
  } finally {
    await dns.stop();
    sock.close();
  }
});

test("host resolvers: IPv4 on :53 and not loopback; systemd-resolved's upstream file after its stub", () => {
  const d = mkdtempSync(join(tmpdir(), 'bgr-res-'));
  try {
    const stub = join(d, 'stub');
    const up = join(d, 'upstream');
    writeFileSync(stub, 'nameserver 127.0.0.53\noptions edns0\n');
    writeFileSync(up, 'nameserver 2001:db8::1\nnameserver 192.0.2.1\nnameserver 192.0.2.1\nnameserver 198.51.100.7\n');
    assert.equal(hostResolvers([stub, up]), ['192.0.2.1', '198.51.100.7']);
    assert.equal(hostResolvers([up, stub]), ['192.0.2.1', '198.51.100.7']);
    assert.equal(hostResolvers([stub]), []);
    assert.equal(hostResolvers([join(d, 'missing')]), []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the ip= clause carries dns0/dns1; a VM started while the listener is down gets the host resolvers', async () => {
  const base = kernelIpArg({ ip: '172.30.0.2', gateway: '172.30.0.1', netmask: '255.255.255.0', hostname: 'vm1' });
  assert.is(base, 'ip=172.30.0.2::172.30.0.1:255.255.255.0:vm1:eth0:off:172.30.0.1');
  assert.is(
    withDnsServers(base, ['192.0.2.1', '198.51.100.7', '203.0.113.9']),
    'ip=172.30.0.2::172.30.0.1:255.255.255.0:vm1:eth0:off:192.0.2.1:198.51.100.7',
  );
  assert.throws(() => withDnsServers(base, ['fe80::1']), /not an IPv4/);

  const net = {
    setupVm: async () => ({ tap: 't', ip: '172.30.0.2', mac: 'm', gateway: '172.30.0.1', ipArg: base }),
  } as unknown as NetworkPort;
  let via: 'host' | 'gateway' = 'host';
  const dns = {
    addGatewayListener: async () => {},
    guestResolvers: (gw: string) => (via === 'host' ? { via, servers: ['192.0.2.1'] } : { via, servers: [gw] }),
  } as never;
  const wrapped = withGatewayDns(net, dns, '172.30.0.0/24', nullLogger);
  const down = await wrapped.setupVm({ id: 'a', name: 'vm1' }, undefined as never);
  assert.is(down.ipArg, 'ip=172.30.0.2::172.30.0.1:255.255.255.0:vm1:eth0:off:192.0.2.1');
  via = 'gateway';
  assert.is((await wrapped.setupVm({ id: 'a', name: 'vm1' }, undefined as never)).ipArg, base);
});

test.run();
