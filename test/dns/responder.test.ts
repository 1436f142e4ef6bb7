// The responder without sockets: the hand-checked fast path, and what may reach dns-packet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dnsPacket from 'dns-packet';
import { Responder, FORWARD } from '../../app/dns/responder.js';
import { query, type Reply } from './helpers.js';

const realDecode = dnsPacket.decode; // taken before any spy: the tests' own reading must not count as the server's
const decode = (b: Buffer) => realDecode(b) as unknown as Reply;

function spyDecode(): { count: () => number; restore: () => void } {
  const real = dnsPacket.decode;
  let n = 0;
  (dnsPacket as { decode: typeof real }).decode = ((buf: Buffer, off?: number) => {
    n++;
    return real(buf, off);
  }) as typeof real;
  return {
    count: () => n,
    restore: () => {
      (dnsPacket as { decode: typeof real }).decode = real;
    },
  };
}

function responder(): Responder {
  const r = new Responder('vm');
  r.setRecords([{ name: 'dev', ip: '10.0.0.2' }]);
  return r;
}

test('common queries never touch dns-packet', () => {
  const r = responder();
  const spy = spyDecode();
  try {
    for (const [n, t] of [
      ['dev.vm', 'A'],
      ['DEV.VM', 'AAAA'],
      ['x.vm', 'A'],
      ['vm', 'SOA'],
      ['vm', 'NS'],
      ['example.com', 'A'],
    ] as const) {
      const out = r.respond(query(n, t, { edns: true }), true, false);
      assert.ok(Buffer.isBuffer(out));
    }
    assert.is(spy.count(), 0);
  } finally {
    spy.restore();
  }
});

test('hostile packets are rejected before dns-packet: 10,000 chained questions, oversize, lying counts', () => {
  const r = responder();
  const spy = spyDecode();
  try {
    // 64 KB: header claiming 10,000 questions, each a pointer back to the previous one
    const chain = Buffer.alloc(12 + 10000 * 6);
    chain.writeUInt16BE(0xbeef, 0);
    chain.writeUInt16BE(10000, 4);
    chain.set([1, 0x61, 0, 0, 1, 0, 1], 12);
    for (let i = 1; i < 10000; i++) {
      const at = 12 + 7 + (i - 1) * 6;
      if (at + 6 > chain.length) break;
      chain.set([0xc0 | (((at - 6) >> 8) & 0x3f), (at - 6) & 0xff, 0, 1, 0, 1], at);
    }
    const out = r.respond(chain, false, false) as Buffer;
    assert.is(out[3]! & 0xf, 1, 'FORMERR');
    const big = Buffer.concat([query('dev.vm'), Buffer.alloc(600)]);
    assert.is((r.respond(big, true, false) as Buffer)[3]! & 0xf, 1);
    const lying = query('dev.vm');
    lying[7] = 5; // ANCOUNT 5 in a query
    assert.is((r.respond(lying, true, false) as Buffer)[3]! & 0xf, 1);
    const arMany = query('dev.vm');
    arMany[11] = 9;
    assert.is((r.respond(arMany, true, false) as Buffer)[3]! & 0xf, 1);
    assert.is(spy.count(), 0, 'none of them was decoded');
  } finally {
    spy.restore();
  }
});

test('a legal question using a compression pointer goes the careful way and gets the same answer', () => {
  const r = responder();
  const spy = spyDecode();
  try {
    // "dev" + a pointer back to itself: a loop, which dns-packet rejects -> FORMERR
    const q = Buffer.from([
      0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x64, 0x65, 0x76, 0xc0, 0x0c, 0, 1, 0, 1,
    ]);
    assert.is((r.respond(q, true, false) as Buffer)[3]! & 0xf, 1, 'pointer loop is FORMERR');
    assert.is(spy.count(), 1);
    // "DEV" + a (legal, backward) pointer to offset 4 whose byte is 0: the name is "DEV." -> outside the zone
    const back = Buffer.from([
      0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x44, 0x45, 0x56, 0xc0, 0x06, 0, 1, 0, 1,
    ]);
    back[6] = 0; // ANCOUNT high byte is the zero the pointer lands on
    const refused = decode(r.respond(back, true, false) as Buffer);
    assert.is(refused.rcode, 'REFUSED');
    assert.is(refused.questions![0]!.name, 'DEV');
    assert.is(spy.count(), 2);
    // ARCOUNT 2 (OPT + another record) also takes the careful path and is answered normally
    const withExtra = dnsPacket.encode({
      id: 9,
      type: 'query',
      flags: 256,
      questions: [{ name: 'Dev.vm', type: 'A' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer,
        { type: 'TXT', name: 'x', data: 'y' },
      ],
    });
    const out = decode(r.respond(withExtra, true, false) as Buffer);
    assert.is(out.rcode, 'NOERROR');
    assert.is(out.questions![0]!.name, 'Dev.vm');
    assert.is(out.answers![0]!.data, '10.0.0.2');
    assert.ok(out.additionals!.some((a) => a.type === 'OPT'));
    assert.is(spy.count(), 3);
  } finally {
    spy.restore();
  }
});

test('out-of-zone: REFUSED normally, FORWARD only when the listener forwards', () => {
  const r = responder();
  assert.is((r.respond(query('example.com'), true, false) as Buffer)[3]! & 0xf, 5);
  assert.is(r.respond(query('example.com'), true, true), FORWARD);
  assert.is((r.respond(query('nope.vm'), true, true) as Buffer)[3]! & 0xf, 3, 'zone names are never forwarded');
  assert.is((r.refuse(query('example.com'), true) as Buffer)[3]! & 0xf, 5);
});

test('serial moves on every change so negative answers are not cached across changes', () => {
  const r = responder();
  const serial = () =>
    (decode(r.respond(query('vm', 'SOA'), true, false) as Buffer).answers[0]!.data as dnsPacket.SoaData).serial;
  const s1 = serial();
  r.upsert('web', '10.0.0.3');
  const s2 = serial();
  r.upsert('web', '10.0.0.3'); // no change
  assert.ok(s2! > s1!);
  assert.is(serial(), s2);
});

test('a large zone: every name gets its own address through shared buckets, and the table follows growth and removal', () => {
  const r = new Responder('vm');
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  r.setRecords(Array.from({ length: 3000 }, (_, i) => ({ name: `n${i}`, ip: ip(i) })));
  const answer = (n: string) => decode(r.respond(query(n), true, false) as Buffer);
  for (let i = 0; i < 3000; i += 7) assert.is(answer(`N${i}.vm`).answers[0]!.data, ip(i), `n${i}`);
  assert.is(answer('n3000.vm').rcode, 'NXDOMAIN');
  r.upsert('late', '10.9.9.9'); // one more than the last rebuild sized for
  assert.is(answer('late.vm').answers[0]!.data, '10.9.9.9');
  r.setRecords([{ name: 'only', ip: '10.1.1.1' }]); // shrinks: old names must be gone, not left in stale buckets
  assert.is(answer('n5.vm').rcode, 'NXDOMAIN');
  assert.is(answer('only.vm').answers[0]!.data, '10.1.1.1');
  assert.is(answer('vm').rcode, 'NOERROR', 'the apex stays in the table');
});

test.run();
