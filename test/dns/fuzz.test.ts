// 100,000 malformed UDP packets (random bytes, truncations, lying counts, pointer loops,
// oversize, 64 KB question chains, bit flips) against a live server: it never crashes, and
// normal queries sent during the flood are answered. Seeded, so a failure can be replayed.
import { test as suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { query, udpRaw, UDP_PATHS, forPath } from './helpers.js';

const TOTAL = 100_000;
const seed = Number(process.env.DNS_FUZZ_SEED ?? Date.now() % 1e9);

function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(seed);
const int = (n: number) => Math.floor(rand() * n);
const bytes = (n: number) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};
const valid = [
  query('dev.vm'),
  query('db.vm', 'AAAA', { edns: true }),
  query('x.vm', 'A', { edns: true }),
  query('vm', 'SOA'),
  query('example.com'),
];

function chain(): Buffer {
  const n = 10_000;
  const b = Buffer.alloc(Math.min(12 + n * 6, 65_000));
  b.writeUInt16BE(n, 4);
  b.set([1, 0x61, 0, 0, 1, 0, 1], 12);
  for (let at = 19; at + 6 <= b.length; at += 6)
    b.set([0xc0 | (((at - 6) >> 8) & 0x3f), (at - 6) & 0xff, 0, 1, 0, 1], at);
  return b;
}
const CHAIN = chain();

function malformed(): Buffer {
  const kind = int(100);
  if (kind < 25) return bytes(int(600));
  const v = Buffer.from(valid[int(valid.length)]!);
  if (kind < 40) return v.subarray(0, int(v.length)); // truncation
  if (kind < 55) {
    v.writeUInt16BE(int(4) === 0 ? 0xffff : int(8), 4 + 2 * int(4));
    return v;
  } // lying counts
  if (kind < 70) {
    // compression pointers: to self, forward, past the end, into the header
    const p = Buffer.from(v.subarray(0, 12));
    const to = [12, 14, 0x3fff, int(12), int(40)][int(5)]!;
    return Buffer.concat([
      p,
      Buffer.from([int(2) ? 1 : 3, 0x61, 0x62, 0x63].slice(0, 2)),
      Buffer.from([0xc0 | (to >> 8), to & 0xff, 0, 1, 0, 1]),
    ]);
  }
  if (kind < 72) return bytes(4097 + int(20_000)); // oversize
  if (kind < 73) return CHAIN; // 64 KB of chained questions
  for (let i = 0, n = 1 + int(4); i < n; i++) v[int(v.length)] ^= 1 << int(8); // bit flips
  return v;
}

for (const path of UDP_PATHS) {
  const { test, startServer } = forPath(suite, path);
  test(`fuzz: ${TOTAL} malformed packets never crash the server; probes answered (seed ${seed})`, async () => {
    const { server, port } = await startServer();
    const sock = createSocket('udp4');
    let replies = 0;
    sock.on('message', () => {
      replies++;
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const latencies: number[] = [];
    const t0 = Date.now();
    try {
      let sent = 0;
      while (sent < TOTAL) {
        for (let i = 0; i < 25 && sent < TOTAL; i++, sent++) sock.send(malformed(), port, '127.0.0.1');
        if (sent % 5_000 === 0) {
          // a normal query in the middle of the flood
          const t = process.hrtime.bigint();
          const reply = await udpRaw(port, query('dev.vm', 'A', { id: sent & 0xffff }), 2000);
          assert.ok(reply, `probe after ${sent} packets answered`);
          assert.is(reply!.readUInt16BE(0), sent & 0xffff);
          assert.is(reply![3]! & 0xf, 0);
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        } else {
          await new Promise((r) => setImmediate(r));
        }
      }
      const final = await udpRaw(port, query('dev.vm'), 2000);
      assert.ok(final, 'still answering after the flood');
      const st = server.stats();
      console.log(
        `  fuzz: ${sent} sent in ${Date.now() - t0} ms, server saw ${st.queries}, replied ${replies} (formerr ${st.formerr}, dropped ${st.dropped}, refused ${st.refused}, nxdomain ${st.nxdomain}); probe latency worst ${Math.max(...latencies).toFixed(2)} ms, median ${latencies.sort((a, b) => a - b)[latencies.length >> 1]!.toFixed(2)} ms`,
      );
      assert.ok(st.queries > TOTAL * 0.5, `server processed ${st.queries} of ${TOTAL}`);
      assert.ok(st.formerr > 0 && st.dropped > 0);
    } finally {
      sock.close();
      await server.stop();
    }
  });

  test(`fuzz: garbage on TCP closes that connection only (seed ${seed})`, async () => {
    const { server, port } = await startServer();
    try {
      await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<void>((resolve) => {
              const c = connect(port, '127.0.0.1', () => {
                c.write(bytes(1 + int(3000)));
                setTimeout(() => c.destroy(), 20);
              });
              c.on('error', () => {});
              c.on('close', () => resolve());
            }),
        ),
      );
      assert.is((await udpRaw(port, query('dev.vm')))![3]! & 0xf, 0);
    } finally {
      await server.stop();
    }
  });
}

suite.run();
