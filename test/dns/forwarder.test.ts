// Forwarding listeners over loopback: the zone answered locally, other names relayed to an
// upstream only for sources inside allowFrom; failures become SERVFAIL, spoofs are ignored.
import { test as suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DnsServer } from '../../app/dns/server.js';
import { parseResolvConf, parseUpstream } from '../../app/dns/upstreams.js';
import { ask, UDP_PATHS, forPath } from './helpers.js';
import { startUpstream } from './fixtures/upstream.js';

for (const path of UDP_PATHS) {
  const { test, udp } = forPath(suite, path);
  async function forwarding(allowFrom: string, upstreamPort: number, timeoutMs = 2000) {
    const server = new DnsServer({
      udp,
      listeners: [
        { host: '127.0.0.1', port: 0, forward: true, allowFrom },
        { host: '127.0.0.1', port: 0 },
      ],
      upstreams: [`127.0.0.1:${upstreamPort}`],
      forwardTimeoutMs: timeoutMs,
    });
    server.setRecords([{ name: 'dev', ip: '172.30.0.2' }]);
    await server.start();
    const [fwd, plain] = server.status().listeners;
    return { server, fwd: fwd!.port, plain: plain!.port };
  }

  test('allowed source: zone answered locally, other names forwarded with the id restored (udp and tcp)', async () => {
    const up = await startUpstream('127.0.0.1');
    const { server, fwd, plain } = await forwarding('127.0.0.0/8', up.port);
    try {
      assert.is((await ask(fwd, 'dev.vm')).p.answers![0]!.data, '172.30.0.2');
      assert.is((await ask(fwd, 'nope.vm')).p.rcode, 'NXDOMAIN');
      for (const tcp of [false, true]) {
        const { p } = await ask(fwd, 'example.com', 'A', { id: 31337, tcp });
        assert.is(p.id, 31337);
        assert.is(p.rcode, 'NOERROR');
        assert.is(p.answers![0]!.data, '93.184.216.34');
      }
      assert.equal(up.seen, ['example.com', 'example.com'], 'zone names never reach the upstream');
      assert.is((await ask(plain, 'example.com')).p.rcode, 'REFUSED', 'the non-forwarding listener never forwards');
      assert.is(up.seen.length, 2);
      assert.is(server.stats().forwarded, 2);
      assert.equal(server.status().upstreams, [`127.0.0.1:${up.port}`]);
    } finally {
      await server.stop();
      up.close();
    }
  });

  test('a source outside allowFrom is REFUSED and nothing is sent upstream', async () => {
    const up = await startUpstream('127.0.0.1');
    const { server, fwd } = await forwarding('10.0.0.0/8', up.port);
    try {
      const { p } = await ask(fwd, 'example.com');
      assert.is(p.rcode, 'REFUSED');
      assert.is((await ask(fwd, 'dev.vm')).p.answers![0]!.data, '172.30.0.2', 'the zone is still served');
      assert.is(up.seen.length, 0);
    } finally {
      await server.stop();
      up.close();
    }
  });

  test('a silent upstream yields SERVFAIL after retrying; a reply for another question is ignored', async () => {
    const up = await startUpstream('127.0.0.1');
    const { server, fwd } = await forwarding('127.0.0.1/32', up.port, 150);
    try {
      const t0 = Date.now();
      const silent = (await ask(fwd, 'silent.example')).p;
      assert.is(silent.rcode, 'SERVFAIL');
      assert.is(silent.questions![0]!.name, 'silent.example');
      assert.is(up.seen.filter((n) => n === 'silent.example').length, 2, 'tried twice');
      assert.ok(Date.now() - t0 >= 280);
      const liar = (await ask(fwd, 'liar.example')).p;
      assert.is(liar.rcode, 'SERVFAIL', 'the mismatched reply was not relayed');
      assert.is(server.stats().servfail, 2);
    } finally {
      await server.stop();
      up.close();
    }
  });

  test('upstream parsing: explicit forms, resolv.conf, our own listener excluded', async () => {
    assert.equal(parseUpstream('1.1.1.1'), { address: '1.1.1.1', port: 53, family: 4 });
    assert.equal(parseUpstream('9.9.9.9:5353'), { address: '9.9.9.9', port: 5353, family: 4 });
    assert.equal(parseUpstream('[2001:db8::1]:54'), { address: '2001:db8::1', port: 54, family: 6 });
    assert.throws(() => parseUpstream('1.1.1.1:0'), /invalid DNS upstream/);
    const conf =
      '# c\nsearch x\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver 2001:db8::2\nnameserver bogus\n';
    assert.equal(
      parseResolvConf(conf).map((u) => `${u.address}:${u.port}`),
      ['127.0.0.53:53', '2001:db8::2:53'],
    );
    const s = new DnsServer({
      udp,
      listeners: [{ host: '127.0.0.1', port: 5300, forward: true, allowFrom: '127.0.0.0/8' }],
      upstreams: ['127.0.0.1:5300', '127.0.0.1:53'],
    });
    assert.equal(s.status().upstreams, ['127.0.0.1:53']);
  });
}

suite.run();
