// The TCP forwarder on real loopback sockets, a plain server playing the guest: bytes both
// ways, half-close, backpressure, many connections at once, a guest port that refuses (the
// client sees a close, not a hang), a VM that is not running, and close() cutting what is live.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TcpForward, type ForwardTarget } from '../../../app/engine/ports/tcp-forward.js';

const LO = '127.0.0.1';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function guest(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, LO, r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function forward(target: () => ForwardTarget | null, connectTimeoutMs?: number) {
  const f = new TcpForward({ addr: LO, port: 0, target, connectTimeoutMs });
  // port 0: let the kernel choose, then read it back from the server
  await f.listen();
  const port = ((f as unknown as { server: Server }).server.address() as AddressInfo).port;
  return { f, port };
}

/** Send data, half-close, and collect everything until the other side ends. */
function exchange(port: number, data: Buffer): Promise<{ got: Buffer; closed: 'end' | 'error' }> {
  return new Promise((resolve) => {
    const c = connect({ host: LO, port, allowHalfOpen: true });
    const parts: Buffer[] = [];
    c.on('data', (d) => parts.push(d));
    c.on('end', () => {
      c.end();
      resolve({ got: Buffer.concat(parts), closed: 'end' });
    });
    c.on('error', () => resolve({ got: Buffer.concat(parts), closed: 'error' }));
    c.end(data);
  });
}

const echo = (s: Socket) => s.pipe(s);

test('bytes both ways: 8 MiB through and back, unchanged', async () => {
  const g = await guest(echo);
  const { f, port } = await forward(() => ({ host: LO, port: g.port }));
  const data = randomBytes(8 << 20);
  const r = await exchange(port, data);
  assert.is(r.closed, 'end');
  assert.is(r.got.length, data.length);
  assert.is(sha(r.got), sha(data));
  await f.close();
  g.server.close();
});

test('half-close: the guest sees the FIN and still answers after it', async () => {
  const g = await guest((s) => {
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => setTimeout(() => s.end(`got ${n} bytes after your FIN`), 50));
  });
  const { f, port } = await forward(() => ({ host: LO, port: g.port }));
  const r = await exchange(port, Buffer.from('hello'));
  assert.is(r.got.toString(), 'got 5 bytes after your FIN');
  assert.is(r.closed, 'end');
  await f.close();
  g.server.close();
});

test('backpressure: a guest that does not read holds the client back, and nothing is lost', async () => {
  const held: Socket[] = [];
  const received: Buffer[] = [];
  const g = await guest((s) => {
    s.pause();
    held.push(s);
    s.on('data', (d) => received.push(d));
  });
  const { f, port } = await forward(() => ({ host: LO, port: g.port }));
  const c = connect({ host: LO, port });
  await new Promise((r) => c.once('connect', r));
  const chunk = randomBytes(1 << 20);
  let accepted = 0;
  // Write while the socket takes it; stop at the first "full" and wait a little for a drain.
  const deadline = Date.now() + 600;
  while (accepted < 256 << 20 && Date.now() < deadline) {
    accepted += chunk.length;
    if (!c.write(chunk)) {
      const drained = await Promise.race([
        new Promise<boolean>((r) => c.once('drain', () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
      ]);
      if (!drained) break;
    }
  }
  assert.ok(
    accepted < 64 << 20,
    `the client was held back after ${accepted >> 20} MiB (kernel buffers, not the engine)`,
  );
  const sent = accepted;
  held[0].resume();
  c.end();
  await new Promise<void>((r) => held[0].on('end', r));
  assert.is(Buffer.concat(received).length, sent, 'every byte arrived once the guest read');
  await f.close();
  g.server.close();
});

test('200 connections at once, each its own bytes back', async () => {
  const g = await guest(echo);
  const { f, port } = await forward(() => ({ host: LO, port: g.port }));
  const datas = Array.from({ length: 200 }, () => randomBytes(32 << 10));
  const results = await Promise.all(datas.map((d) => exchange(port, d)));
  results.forEach((r, i) => assert.is(sha(r.got), sha(datas[i]), `connection ${i}`));
  assert.is(f.connections, 0, 'no connection left behind');
  await f.close();
  g.server.close();
});

test('a guest port that refuses: the client sees a close at once, not a hang', async () => {
  const g = await guest(echo);
  const dead = g.port;
  await new Promise((r) => g.server.close(r));
  const { f, port } = await forward(() => ({ host: LO, port: dead }));
  const t0 = Date.now();
  const r = await exchange(port, Buffer.from('anyone?'));
  assert.is(r.got.length, 0);
  assert.ok(Date.now() - t0 < 2000, `closed after ${Date.now() - t0} ms`);
  await f.close();
});

test('a VM that is not running (no target): refused at once', async () => {
  const { f, port } = await forward(() => null);
  const r = await exchange(port, Buffer.from('x'));
  assert.is(r.got.length, 0);
  assert.is(r.closed, 'error', 'a reset');
  await f.close();
});

test('close(): the port stops listening and live connections are cut', async () => {
  const g = await guest(() => {});
  const { f, port } = await forward(() => ({ host: LO, port: g.port }));
  const c = connect({ host: LO, port });
  await new Promise((r) => c.once('connect', r));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(f.connections, 2, 'client side and guest side');
  const closed = new Promise((r) => c.once('close', r));
  c.on('error', () => {});
  await f.close();
  await closed;
  const again = connect({ host: LO, port });
  const err = await new Promise<string>((r) => again.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
  assert.is(err, 'ECONNREFUSED');
  g.server.close();
});

test.run();
