// The server over real sockets on 127.0.0.1 (UDP and TCP), decoded with dns-packet.
import { test as suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsServer } from '../../app/dns/server.js';
import { BangerError } from '../../app/base/errors.js';
import { ask, decodeReply, frame, query, rcodeOf, tcpRaw, udpRaw, UDP_PATHS, forPath } from './helpers.js';

for (const path of UDP_PATHS) {
  const { test, startServer, udp } = forPath(suite, path);
  for (const tcp of [false, true]) {
    const via = tcp ? 'tcp' : 'udp';

    test(`${via}: A for a record, authoritative, TTL 5, id echoed`, async () => {
      const { server, port } = await startServer();
      try {
        const { p } = await ask(port, 'dev.vm', 'A', { tcp, id: 777 });
        assert.is(p.id, 777);
        assert.is(p.rcode, 'NOERROR');
        assert.ok(p.flag_aa, 'AA set');
        assert.ok(p.flag_rd, 'RD copied');
        assert.equal(
          p.answers!.map((a) => [a.name, a.type, a.ttl, a.data]),
          [['dev.vm', 'A', 5, '172.30.0.2']],
        );
      } finally {
        await server.stop();
      }
    });

    test(`${via}: names are case-insensitive and the question's case is echoed`, async () => {
      const { server, port } = await startServer();
      try {
        const { p } = await ask(port, 'DeV.Vm', 'A', { tcp });
        assert.is(p.questions![0]!.name, 'DeV.Vm');
        assert.is(p.answers![0]!.name, 'DeV.Vm');
        assert.is(p.answers![0]!.data, '172.30.0.2');
      } finally {
        await server.stop();
      }
    });

    test(`${via}: SOA and NS at the apex`, async () => {
      const { server, port } = await startServer();
      try {
        const soa = (await ask(port, 'vm', 'SOA', { tcp })).p;
        assert.is(soa.rcode, 'NOERROR');
        assert.ok(soa.flag_aa);
        assert.is(soa.answers!.length, 1);
        const data = soa.answers![0]!.data as dnsPacket.SoaData;
        assert.is(soa.answers![0]!.type, 'SOA');
        assert.is(data.mname, 'ns.vm');
        assert.is(data.minimum, 5);
        const ns = (await ask(port, 'vm', 'NS', { tcp })).p;
        assert.equal(
          ns.answers!.map((a) => [a.type, a.data]),
          [['NS', 'ns.vm']],
        );
      } finally {
        await server.stop();
      }
    });

    test(`${via}: unknown name in the zone is NXDOMAIN with the SOA in authority`, async () => {
      const { server, port } = await startServer();
      try {
        for (const name of ['nope.vm', 'x.dev.vm']) {
          const { p } = await ask(port, name, 'A', { tcp });
          assert.is(p.rcode, 'NXDOMAIN', name);
          assert.ok(p.flag_aa);
          assert.is(p.answers!.length, 0);
          assert.equal(
            p.authorities!.map((a) => [a.name, a.type]),
            [['vm', 'SOA']],
          );
        }
      } finally {
        await server.stop();
      }
    });

    test(`${via}: AAAA (and MX, SOA below the apex) for an existing name is NODATA`, async () => {
      const { server, port } = await startServer();
      try {
        for (const type of ['AAAA', 'MX', 'SOA'] as const) {
          const { p } = await ask(port, 'dev.vm', type, { tcp });
          assert.is(p.rcode, 'NOERROR', type);
          assert.is(p.answers!.length, 0, type);
          assert.equal(
            p.authorities!.map((a) => a.type),
            ['SOA'],
            type,
          );
        }
        const apexA = (await ask(port, 'vm', 'A', { tcp })).p;
        assert.is(apexA.rcode, 'NOERROR');
        assert.is(apexA.answers!.length, 0);
      } finally {
        await server.stop();
      }
    });

    test(`${via}: outside the zone is REFUSED, not authoritative, never forwarded`, async () => {
      const { server, port } = await startServer();
      try {
        for (const name of ['example.com', 'vm.example.com', 'notvm']) {
          const { p } = await ask(port, name, 'A', { tcp });
          assert.is(p.rcode, 'REFUSED', name);
          assert.not.ok(p.flag_aa);
        }
        assert.is(server.stats().forwarded, 0);
      } finally {
        await server.stop();
      }
    });

    test(`${via}: EDNS OPT in the query gets an OPT back (DO echoed); none without`, async () => {
      const { server, port } = await startServer();
      try {
        const withOpt = (await ask(port, 'dev.vm', 'A', { tcp, edns: true, doBit: true })).p;
        const opt = withOpt.additionals.find((a) => a.type === 'OPT');
        assert.ok(opt, 'OPT present');
        assert.is(opt!.udpPayloadSize, 1232);
        assert.ok(opt!.flag_do, 'DO echoed');
        assert.is(withOpt.answers![0]!.data, '172.30.0.2');
        const nx = (await ask(port, 'nope.vm', 'A', { tcp, edns: true })).p;
        assert.ok(nx.additionals!.some((a) => a.type === 'OPT'));
        assert.is(nx.rcode, 'NXDOMAIN');
        const plain = (await ask(port, 'dev.vm', 'A', { tcp })).p;
        assert.is(plain.additionals!.length, 0);
      } finally {
        await server.stop();
      }
    });
  }

  test('udp: FORMERR for a readable header with a bad question; silence for <12 bytes and for responses', async () => {
    const { server, port } = await startServer();
    try {
      const good = query('dev.vm');
      const truncated = good.subarray(0, good.length - 3); // question cut short
      const r1 = await udpRaw(port, truncated);
      assert.ok(r1);
      assert.is(r1!.readUInt16BE(0), 4242);
      assert.is(rcodeOf(r1!), 1);
      const twoQ = Buffer.from(good);
      twoQ[5] = 2; // QDCOUNT lies
      assert.is(rcodeOf((await udpRaw(port, twoQ))!), 1);
      assert.is(await udpRaw(port, Buffer.from([1, 2, 3, 4, 5]), 300), null);
      const response = Buffer.from(good);
      response[2]! |= 0x80;
      assert.is(await udpRaw(port, response, 300), null);
      const notify = Buffer.from(good);
      notify[2] = 4 << 3; // opcode NOTIFY
      assert.is(rcodeOf((await udpRaw(port, notify))!), 4, 'NOTIMP');
      const st = server.stats();
      assert.ok(st.formerr >= 2 && st.dropped >= 2 && st.notimp >= 1, JSON.stringify(st));
    } finally {
      await server.stop();
    }
  });

  test('udp: a query longer than 512 bytes without EDNS is FORMERR', async () => {
    const { server, port } = await startServer();
    try {
      const long = Array.from({ length: 8 }, () => 'a'.repeat(60)).join('.') + '.vm'; // ~490-byte name
      const q = query(long);
      const padded = Buffer.concat([q.subarray(0, 12), Buffer.from([63, ...Buffer.alloc(63, 0x62)]), q.subarray(12)]);
      assert.ok(padded.length > 512);
      assert.is(rcodeOf((await udpRaw(port, padded))!), 1);
    } finally {
      await server.stop();
    }
  });

  test('tcp: several queries in one connection, split across writes, all answered', async () => {
    const { server, port } = await startServer();
    try {
      const payload = frame(
        query('dev.vm', 'A', { id: 1 }),
        query('db.vm', 'A', { id: 2 }),
        query('nope.vm', 'A', { id: 3 }),
      );
      const { replies } = await tcpRaw(port, payload, 3);
      assert.equal(
        replies.map((r) => r.readUInt16BE(0)),
        [1, 2, 3],
      );
      assert.equal(replies.map(rcodeOf), [0, 0, 3]);
      assert.is(decodeReply(replies[1]!).answers![0]!.data, '172.30.0.3');
    } finally {
      await server.stop();
    }
  });

  test('tcp: idle connections are closed after the idle timeout', async () => {
    const { server, port } = await startServer({ tcpIdleMs: 200 });
    try {
      const t0 = Date.now();
      const { replies, closed } = await tcpRaw(port, frame(query('dev.vm')), 99, 3000);
      assert.is(replies.length, 1);
      assert.ok(closed, 'server closed the idle connection');
      assert.ok(Date.now() - t0 < 2000, `closed after ${Date.now() - t0} ms`);
    } finally {
      await server.stop();
    }
  });

  test('record changes: setRecords, upsert and remove change answers at once; bad input changes nothing', async () => {
    const { server, port } = await startServer();
    try {
      server.upsert('web', '172.30.0.9');
      assert.is((await ask(port, 'web.vm')).p.answers![0]!.data, '172.30.0.9');
      server.upsert('web', '172.30.0.10');
      assert.is((await ask(port, 'web.vm')).p.answers![0]!.data, '172.30.0.10');
      assert.ok(server.remove('WEB'));
      assert.is((await ask(port, 'web.vm')).p.rcode, 'NXDOMAIN');
      const before = server.records();
      try {
        server.setRecords([
          { name: 'ok', ip: '10.0.0.1' },
          { name: 'bad_name', ip: '10.0.0.2' },
        ]);
        assert.unreachable();
      } catch (e) {
        assert.instance(e, BangerError);
        assert.is((e as BangerError).code, 'E_INVALID_NAME');
      }
      try {
        server.upsert('ok', '300.1.1.1');
        assert.unreachable();
      } catch (e) {
        assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
      }
      assert.equal(server.records(), before);
      assert.is((await ask(port, 'ok.vm')).p.rcode, 'NXDOMAIN');
      assert.is(server.status().records, 2);
    } finally {
      await server.stop();
    }
  });

  test('a configurable zone is served instead of vm', async () => {
    const server = new DnsServer({
      udp,
      zone: 'Banger.Test.',
      listeners: [{ host: '127.0.0.1', port: 0 }],
      ttl: 30,
    });
    server.setRecords([{ name: 'dev', ip: '10.1.2.3' }]);
    await server.start();
    const port = server.status().listeners[0]!.port;
    try {
      assert.is(server.status().zone, 'banger.test');
      const a = (await ask(port, 'dev.banger.test')).p;
      assert.is(a.answers![0]!.ttl, 30);
      assert.is((await ask(port, 'dev.vm')).p.rcode, 'REFUSED');
      assert.is((await ask(port, 'x.banger.test')).p.rcode, 'NXDOMAIN');
    } finally {
      await server.stop();
    }
  });

  test('a taken port: that listener is down with a clear error, the other keeps serving', async () => {
    const blockerUdp = createSocket('udp4');
    await new Promise<void>((r) => blockerUdp.bind(0, '127.0.0.1', () => r()));
    const taken = blockerUdp.address().port;
    const blockerTcp = createServer();
    await new Promise<void>((r) => blockerTcp.listen(0, '127.0.0.1', () => r()));
    const server = new DnsServer({
      udp,
      listeners: [
        { host: '127.0.0.1', port: taken },
        { host: '127.0.0.1', port: 0 },
        { host: '127.0.0.1', port: (blockerTcp.address() as { port: number }).port },
      ],
    });
    server.setRecords([{ name: 'dev', ip: '10.0.0.2' }]);
    try {
      await server.start(); // must not throw
      const [down, up, tcpDown] = server.status().listeners;
      assert.is(down!.up, false);
      assert.match(down!.error!, /udp 127\.0\.0\.1:\d+: address already in use/);
      assert.is(up!.up, true);
      assert.equal(up!.protocols, ['udp', 'tcp']);
      assert.is(tcpDown!.up, false, 'tcp taken: listener down even though udp could bind');
      assert.match(tcpDown!.error ?? '', /tcp .*address already in use|udp .*address already in use/);
      assert.is((await ask(up!.port, 'dev.vm')).p.answers![0]!.data, '10.0.0.2');
    } finally {
      await server.stop();
      blockerUdp.close();
      blockerTcp.close();
    }
  });

  test('constructor validates at the entry', () => {
    const bad: [unknown, string][] = [
      [{ listeners: [] }, 'E_INVALID_ARGUMENT'],
      [{ listeners: [{ host: 'localhost', port: 1 }] }, 'E_INVALID_ARGUMENT'],
      [{ listeners: [{ host: '127.0.0.1', port: 70000 }] }, 'E_INVALID_ARGUMENT'],
      [{ zone: 'home.local', listeners: [{ host: '127.0.0.1', port: 0 }] }, 'E_INVALID_ARGUMENT'],
      [{ zone: 'bad zone', listeners: [{ host: '127.0.0.1', port: 0 }] }, 'E_INVALID_ARGUMENT'],
      [
        { listeners: [{ host: '127.0.0.1', port: 0, forward: true, allowFrom: '10.0.0.0/99' }], upstreams: [] },
        'E_INVALID_ARGUMENT',
      ],
      [{ listeners: [{ host: '127.0.0.1', port: 0, forward: true }], upstreams: ['not-an-ip'] }, 'E_INVALID_ARGUMENT'],
    ];
    for (const [opts, code] of bad) {
      try {
        new DnsServer(opts as never);
        assert.unreachable(JSON.stringify(opts));
      } catch (e) {
        assert.instance(e, BangerError, JSON.stringify(opts));
        assert.is((e as BangerError).code, code);
      }
    }
  });
}

suite.run();
