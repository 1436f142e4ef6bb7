// One published TCP port: accept on the host address and pipe each connection to the guest.
// pipe() gives backpressure both ways (a slow side pauses the other's reads, so nothing piles up
// here); allowHalfOpen passes a FIN on without closing the other direction. A guest port that
// refuses, or a guest that does not answer in time, resets the client's connection: it sees a
// close, never a hang. The target is asked per connection, so a VM that is not running (yet)
// refuses instead of connecting to a stale address.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ForwardTarget {
  host: string;
  port: number;
}

export interface TcpForwardOptions {
  addr: string;
  port: number;
  /** Where a new connection goes; null: the VM is not running, refuse it. */
  target: () => ForwardTarget | null;
  /** How long a connection to the guest may take before the client is reset. */
  connectTimeoutMs?: number;
  onError?: (err: Error) => void;
}

export class TcpForward {
  private readonly conns = new Set<Socket>();
  private server: Server | null = null;

  constructor(private readonly o: TcpForwardOptions) {}

  /** Bind and listen; rejects with the bind's error (EADDRINUSE, EACCES, EADDRNOTAVAIL). */
  listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => this.accept(c));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.o.addr, port: this.o.port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.onError?.(err));
        this.server = server;
        resolve();
      });
    });
  }

  /** Live connections (tests, stats). */
  get connections(): number {
    return this.conns.size;
  }

  private accept(client: Socket): void {
    const t = this.o.target();
    if (!t) return void client.resetAndDestroy();
    const up = connect({ host: t.host, port: t.port, allowHalfOpen: true });
    this.track(client);
    this.track(up);
    up.setNoDelay(true);
    client.setNoDelay(true);
    const timer = setTimeout(() => up.destroy(new Error('guest did not answer')), this.o.connectTimeoutMs ?? 10_000);
    up.once('connect', () => {
      clearTimeout(timer);
      client.pipe(up);
      up.pipe(client);
      client.resume();
    });
    // A reset or an error on one side ends the other at once (a reset for the client).
    const fail = (other: Socket) => () => {
      clearTimeout(timer);
      if (!other.destroyed) other.resetAndDestroy();
    };
    client.on('error', fail(up));
    up.on('error', fail(client));
    // A side that closed without its FIN (destroyed) takes the other along; a clean close
    // (both directions ended) leaves the other to finish writing what it has.
    client.on('close', () => !client.readableEnded && fail(up)());
    up.on('close', () => !up.readableEnded && fail(client)());
  }

  private track(s: Socket): void {
    this.conns.add(s);
    s.once('close', () => this.conns.delete(s));
  }

  /** Stop listening and cut every connection (the VM stopped, or the engine lets go). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
