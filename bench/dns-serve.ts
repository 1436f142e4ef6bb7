// Bench helper: serve name0..nameN-1.vm from banger's DnsServer on 127.0.0.1:PORT until killed.
// usage: node --import tsx bench/dns-serve.ts PORT [NAMES] [native|dgram|auto]
// Prints "ready PORT", or "unavailable: WHY" when that UDP path cannot run here.
// BUSY=MS stands in for the rest of the engine: every 100 ms the JS thread is busy for MS ms
// building and dropping garbage (as a status poll, a reconcile or an image build step would).
import { DnsServer, chooseUdpPath, type UdpPath } from '../app/dns/server.js';

const port = Number(process.argv[2]);
const names = Number(process.argv[3] ?? 1000);
const want = (process.argv[4] ?? 'auto') as UdpPath | 'auto';
try {
  chooseUdpPath(want);
} catch (err) {
  console.log(`unavailable: ${(err as Error).message}`);
  process.exit(0);
}
const server = new DnsServer({ listeners: [{ host: '127.0.0.1', port }], udp: want });
server.setRecords(
  Array.from({ length: names }, (_, i) => ({
    name: `name${i}`,
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  })),
);
await server.start();
const l = server.status().listeners[0]!;
if (!l.up) {
  console.error(`dns-serve: ${l.error}`);
  process.exit(1);
}
console.log(`ready ${l.port} ${l.udp}`);
const busy = Number(process.env.BUSY ?? 0);
if (busy > 0) {
  setInterval(() => {
    const until = performance.now() + busy;
    let junk: unknown[] = [];
    while (performance.now() < until) junk.push({ at: performance.now(), s: 'x'.repeat(64) });
    junk = [];
  }, 100).unref();
}
const stop = () => {
  console.error(`dns-serve stats ${JSON.stringify(server.stats())}`);
  void server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
