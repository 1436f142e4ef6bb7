// Bench helper: the least any Node dgram server can do per query (no parsing, no lookup: the
// query echoed back with QR set). Its max qps is the ceiling for banger's server on this machine.
// usage: node --import tsx bench/dns-floor.ts PORT
import { createSocket } from 'node:dgram';

const port = Number(process.argv[2]);
const lookup = (a: string, f: number, cb: (e: null, a: string, f: number) => void) => cb(null, a, f);
const sock = createSocket({ type: 'udp4', lookup: lookup as never });
sock.on('message', (msg, rinfo) => {
  msg[2]! |= 0x80;
  sock.send(msg, rinfo.port, rinfo.address);
});
sock.bind(port, '127.0.0.1', () => {
  sock.setRecvBufferSize(4 << 20);
  console.log(`ready ${port}`);
});
process.on('SIGTERM', () => process.exit(0));
