// dig (BIND's client) as an independent peer: every answer kind over UDP and TCP.
import { test as suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dig, UDP_PATHS, forPath } from './helpers.js';

for (const path of UDP_PATHS) {
  const { test, startServer } = forPath(suite, path);
  for (const proto of ['+notcp', '+tcp']) {
    test(`dig ${proto}: every answer kind`, async () => {
      const { server, port } = await startServer();
      try {
        const a = await dig(port, ['DeV.vm', 'A', proto]);
        assert.is(a.status, 'NOERROR');
        assert.ok(a.flags.includes('aa') && a.flags.includes('qr'), a.flags.join(' '));
        assert.equal(
          a.answers.map((r) => [r[0], r[1], r[3], r[4]]),
          [['DeV.vm.', '5', 'A', '172.30.0.2']],
        );
        assert.ok(a.opt, 'dig sends EDNS by default and gets OPT back');

        const noedns = await dig(port, ['dev.vm', 'A', '+noedns', proto]);
        assert.is(noedns.status, 'NOERROR');
        assert.not.ok(noedns.opt);

        const nx = await dig(port, ['ghost.vm', 'A', proto]);
        assert.is(nx.status, 'NXDOMAIN');
        assert.ok(nx.flags.includes('aa'));
        assert.is(nx.answers.length, 0);
        assert.equal(
          nx.authority.map((r) => [r[0], r[3]]),
          [['vm.', 'SOA']],
        );

        const nodata = await dig(port, ['dev.vm', 'AAAA', proto]);
        assert.is(nodata.status, 'NOERROR');
        assert.is(nodata.answers.length, 0);
        assert.equal(
          nodata.authority.map((r) => r[3]),
          ['SOA'],
        );

        const soa = await dig(port, ['vm', 'SOA', proto]);
        assert.equal(
          soa.answers.map((r) => [r[0], r[3], r[4]]),
          [['vm.', 'SOA', 'ns.vm.']],
        );
        const ns = await dig(port, ['vm', 'NS', proto]);
        assert.equal(
          ns.answers.map((r) => [r[3], r[4]]),
          [['NS', 'ns.vm.']],
        );

        const refused = await dig(port, ['example.com', 'A', proto]);
        assert.is(refused.status, 'REFUSED');
        assert.not.ok(refused.flags.includes('aa'));

        const dnssec = await dig(port, ['dev.vm', 'A', '+dnssec', proto]);
        assert.match(dnssec.raw, /EDNS: version: 0, flags: do;/);

        const badvers = await dig(port, ['dev.vm', 'A', '+edns=1', '+noednsnegotiation', proto]);
        assert.is(badvers.status, 'BADVERS');
      } finally {
        await server.stop();
      }
    });
  }
}

suite.run();
