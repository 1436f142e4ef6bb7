// bench/ports.ts [MIB=512] [CONNS=2000]: the published-port forwarder (engine/ports/tcp-forward.ts)
// against a direct connection to the same server, in one run, on loopback: bulk throughput
// (MIB through an echo-less sink, one connection) and connection rate (CONNS connect + one
// request/answer + close, 50 at a time). Prints each figure and the ratio forwarded/direct.
// The "guest" is a plain server here (the forwarder's cost, not a guest NIC's); client, servers
// and forwarder are three processes, as the client, the guest and the engine are.
// usage: node --import tsx bench/ports.ts
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { TcpForward } from '../app/engine/ports/tcp-forward.js';

const MIB = Number(process.argv[2] ?? 512);
const CONNS = Number(process.argv[3] ?? 2000);
const LO = '127.0.0.1';

async function listen(s: Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, LO, r));
  return (s.address() as AddressInfo).port;
}

/** Send MIB MiB and wait for the sink's byte count back: MiB/s. */
function bulk(port: number): Promise<number> {
  const chunk = Buffer.alloc(1 << 20, 7);
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const c = connect({ host: LO, port, allowHalfOpen: true });
    let sent = 0;
    const pump = () => {
      while (sent < MIB) {
        sent++;
        if (!c.write(chunk)) return void c.once('drain', pump);
      }
      c.end();
    };
    c.once('connect', pump);
    c.on('data', () => {});
    c.on('end', () => resolve(MIB / (Number(process.hrtime.bigint() - t0) / 1e9)));
  });
}

/** CONNS short connections, 50 in flight: connections/s. */
async function rate(port: number): Promise<number> {
  const one = () =>
    new Promise<void>((r) => {
      const c = connect({ host: LO, port });
      c.on('data', () => c.end());
      c.on('close', () => r());
      c.write('x');
    });
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next++ < CONNS) await one();
    }),
  );
  return CONNS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const role = process.argv[4];
if (role === 'servers') {
  // The "guest": a sink that answers its byte count, and a one-byte answerer.
  const sink = createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => s.end(String(n)));
  });
  const answer = createServer((s) => s.on('data', () => s.end('y')));
  console.log(JSON.stringify([await listen(sink), await listen(answer)]));
} else if (role === 'forwarder') {
  // The engine's part, in a process of its own as the engine is.
  const out: number[] = [];
  for (const port of JSON.parse(process.argv[5]) as number[]) {
    const f = new TcpForward({ addr: LO, port: 0, target: () => ({ host: LO, port }) });
    await f.listen();
    out.push(((f as unknown as { server: Server }).server.address() as AddressInfo).port);
  }
  console.log(JSON.stringify(out));
} else {
  const kids: ChildProcess[] = [];
  const start = (...args: string[]) =>
    new Promise<number[]>((resolve) => {
      const c = spawn(process.execPath, [...process.execArgv, process.argv[1], String(MIB), String(CONNS), ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      kids.push(c);
      c.stdout!.once('data', (d) => resolve(JSON.parse(String(d))));
    });
  const [sinkPort, answerPort] = await start('servers');
  const [fSink, fAnswer] = await start('forwarder', JSON.stringify([sinkPort, answerPort]));
  for (const [what, run, direct, forwarded] of [
    ['bulk MiB/s', bulk, sinkPort, fSink],
    ['connections/s', rate, answerPort, fAnswer],
  ] as const) {
    await run(direct); // warm up both paths once
    await run(forwarded);
    const d = await run(direct);
    const f = await run(forwarded);
    console.log(
      `${what.padEnd(14)} direct ${d.toFixed(0).padStart(7)}  forwarded ${f.toFixed(0).padStart(7)}  ratio ${(f / d).toFixed(2)}`,
    );
  }
  for (const k of kids) k.kill();
}
