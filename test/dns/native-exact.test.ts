// The native UDP path answers the hot queries itself: its bytes must be exactly what the JS
// Responder (the one it got its table from) would send, for every shape of query, before and
// after record changes. Skipped through the runner where the addon is not built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dnsPacket from 'dns-packet';
import type { Responder } from '../../app/dns/responder.js';
import { nativeUdpUnavailable } from '../../app/dns/native-udp.js';
import { query, startServer, udpRaw } from './helpers.js';
import { runIf } from '../helpers/skip.js';

const missing = nativeUdpUnavailable();
const names = ['dev.vm', 'DeV.Vm', 'db.vm', 'nope.vm', 'x.dev.vm', 'vm', 'VM', 'example.com', 'a.b.c.vm', 'dev.vm.x'];
const types = ['A', 'AAAA', 'MX', 'ANY', 'SOA', 'NS', 'TXT'] as dnsPacket.RecordType[];

/** Every name x type x EDNS/DO x RD, plus header variants (CD set, odd class, AXFR). */
function queries(): Buffer[] {
  const out: Buffer[] = [];
  let id = 1;
  for (const name of names)
    for (const type of types)
      for (const [edns, doBit] of [
        [false, false],
        [true, false],
        [true, true],
      ] as const)
        for (const rd of [true, false]) out.push(query(name, type, { id: id++, edns, doBit, rd }));
  for (const name of ['dev.vm', 'nope.vm']) {
    const cd = query(name, 'A', { id: id++ });
    cd[3] = 0x10; // CD
    out.push(cd);
    const ch = query(name, 'A', { id: id++ });
    ch.writeUInt16BE(3, ch.length - 2); // class CH
    out.push(ch);
    const axfr = query(name, 'A', { id: id++ });
    axfr.writeUInt16BE(252, axfr.length - 4);
    out.push(axfr);
  }
  return out;
}

async function sameAsResponder(): Promise<void> {
  const { server, port } = await startServer({ udp: 'native' });
  const responder = (server as unknown as { responder: Responder }).responder;
  try {
    for (const phase of ['initial', 'after changes']) {
      const before = responder.stats.queries;
      let sent = 0;
      for (const q of queries()) {
        const got = await udpRaw(port, q);
        const want = responder.respond(q, true, false);
        assert.ok(Buffer.isBuffer(want));
        assert.ok(got, `${phase}: a reply for query ${q.readUInt16BE(0)}`);
        assert.equal([...got!], [...(want as Buffer)], `${phase}: query ${q.readUInt16BE(0)} byte for byte`);
        sent++;
      }
      const native = server.stats().queries - responder.stats.queries;
      assert.ok(native > sent / 3, `${phase}: the native thread answered ${native} of ${sent} itself`);
      assert.ok(responder.stats.queries - before > sent, 'the rest came back to the JS Responder');
      server.upsert('dev', '172.30.0.99'); // new address and a new SOA serial: the table follows
      server.remove('db');
      server.upsert('nope', '172.30.0.7');
    }
  } finally {
    await server.stop();
  }
}

runIf(test, missing)(`native replies equal the JS Responder's byte for byte`, sameAsResponder);

test.run();
