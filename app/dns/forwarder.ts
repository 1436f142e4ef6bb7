// Relays out-of-zone queries from guests to the host's upstream resolvers over UDP. Each
// query gets a fresh random id; a reply is accepted only from the upstream we asked, with that
// id and the same question, so a spoofed packet cannot poison what the guest sees.
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { Logger } from '../base/log.js';
import type { Upstream } from './upstreams.js';

interface Pending {
  query: Buffer; // copy with our id
  clientId: number;
  qEnd: number;
  tries: number;
  upstream: Upstream;
  timer: NodeJS.Timeout;
  done: (reply: Buffer | null) => void;
}

export interface ForwarderOptions {
  timeoutMs?: number;
  maxPending?: number;
  logger?: Logger;
}

export class Forwarder {
  private readonly pending = new Map<number, Pending>();
  private readonly sockets: { 4?: Socket; 6?: Socket } = {};
  private readonly timeoutMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly upstreams: Upstream[],
    opts: ForwarderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxPending = opts.maxPending ?? 2048;
  }

  get upstreamList(): Upstream[] {
    return this.upstreams;
  }

  async start(): Promise<void> {
    for (const fam of [4, 6] as const) {
      if (!this.upstreams.some((u) => u.family === fam) || this.sockets[fam]) continue;
      const sock = createSocket(fam === 4 ? 'udp4' : 'udp6');
      sock.on('message', (msg, rinfo) => this.onReply(msg, rinfo.address, rinfo.port));
      sock.on('error', () => {
        /* ICMP errors and the like: the query times out and is retried */
      });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(0, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      this.sockets[fam] = sock;
    }
  }

  stop(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.done(null);
    }
    this.pending.clear();
    for (const fam of [4, 6] as const) {
      this.sockets[fam]?.close();
      delete this.sockets[fam];
    }
  }

  /** Forward `msg` (its question ends at qEnd); `done` gets the relayed reply, or null on failure. */
  forward(msg: Buffer, qEnd: number, done: (reply: Buffer | null) => void): void {
    if (this.upstreams.length === 0 || this.pending.size >= this.maxPending) {
      done(null);
      return;
    }
    let id = randomInt(0x10000);
    for (let i = 0; this.pending.has(id) && i < 16; i++) id = randomInt(0x10000);
    if (this.pending.has(id)) {
      done(null);
      return;
    }
    const query = Buffer.from(msg);
    query.writeUInt16BE(id, 0);
    const p: Pending = {
      query,
      clientId: msg.readUInt16BE(0),
      qEnd,
      tries: 0,
      upstream: this.upstreams[0]!,
      timer: undefined as unknown as NodeJS.Timeout,
      done,
    };
    this.pending.set(id, p);
    this.send(id, p);
  }

  private send(id: number, p: Pending): void {
    p.upstream = this.upstreams[p.tries % this.upstreams.length]!;
    p.tries++;
    const sock = this.sockets[p.upstream.family];
    p.timer = setTimeout(() => this.onTimeout(id), this.timeoutMs);
    if (!sock) {
      return;
    } // not started: the timeout answers SERVFAIL
    sock.send(p.query, p.upstream.port, p.upstream.address);
  }

  private onTimeout(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (p.tries < Math.max(2, this.upstreams.length)) {
      this.send(id, p);
      return;
    }
    this.pending.delete(id);
    p.done(null);
  }

  private onReply(msg: Buffer, address: string, port: number): void {
    if (msg.length < 12 || !(msg[2]! & 0x80)) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p || p.upstream.port !== port || !sameAddress(p.upstream.address, address)) return;
    if (msg.length < p.qEnd || msg.compare(p.query, 12, p.qEnd, 12, p.qEnd) !== 0) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    msg.writeUInt16BE(p.clientId, 0);
    p.done(msg);
  }
}

function sameAddress(a: string, b: string): boolean {
  return a === b || b === `::ffff:${a}`;
}
