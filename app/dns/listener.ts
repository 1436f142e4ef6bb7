// One address:port served on UDP and TCP. A listener that cannot bind records why and stays
// down; it never takes the other listeners (or the engine) with it.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { BlockList, createServer, isIP, type Server, type Socket } from 'node:net';
import { BangerError, ErrorCodes } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { Forwarder } from './forwarder.js';
import { NativeUdp, encodeTable } from './native-udp.js';
import { FORWARD, type DnsStats, type Responder } from './responder.js';
import { RCODE_SERVFAIL, questionReply } from './wire.js';

export interface ListenerOptions {
  host: string;
  port: number;
  /** Forward names outside the zone to the upstreams (guest-facing listener only). */
  forward?: boolean;
  /** CIDR(s) whose queries may be forwarded; everyone else gets REFUSED. Default: nobody. */
  allowFrom?: string | string[];
}

/** How UDP is served: the native batched thread (native/dns-udp) or node:dgram on the JS thread. */
export type UdpPath = 'native' | 'dgram';

export interface ListenerStatus {
  address: string;
  port: number;
  protocols: ('udp' | 'tcp')[];
  up: boolean;
  error: string | null;
  forwards: boolean;
  /** Which UDP path serves this listener. */
  udp: UdpPath;
}

/** Where a UDP reply goes out: a dgram socket or the native one. */
interface UdpOut {
  send(msg: Buffer, port: number, address: string): void;
}

export function parseAllowFrom(raw: string | string[] | undefined): BlockList {
  const list = new BlockList();
  for (const cidr of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(String(cidr).trim());
    const fam = m ? isIP(m[1]!) : 0;
    const bits = m ? Number(m[2]) : -1;
    if (!m || fam === 0 || bits > (fam === 4 ? 32 : 128)) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `invalid allowFrom "${cidr}": use a CIDR such as 172.30.0.0/24`,
      );
    }
    list.addSubnet(m[1]!, bits, fam === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

// dgram resolves the destination of every send through dns.lookup (a tick per packet);
// our destinations are already IP literals.
const literalLookup = (address: string, family: number, cb: (err: null, a: string, f: number) => void) =>
  cb(null, address, family);

export class Listener {
  readonly host: string;
  readonly requestedPort: number;
  readonly forwards: boolean;
  private port: number;
  private udp: UdpSocket | null = null;
  private native: NativeUdp | null = null;
  private unsubscribe: (() => void) | null = null;
  private tcp: Server | null = null;
  private readonly conns = new Set<Socket>();
  private error: string | null = null;
  private readonly allow: BlockList;

  constructor(
    opts: ListenerOptions,
    private readonly responder: Responder,
    private readonly forwarder: Forwarder | null,
    private readonly logger: Logger,
    private readonly tcpIdleMs: number,
    readonly udpPath: UdpPath = 'dgram',
  ) {
    if (isIP(opts.host) === 0)
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `invalid DNS listener address "${opts.host}": use an IP address`,
      );
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid DNS listener port ${opts.port}: must be 0-65535`);
    }
    this.host = opts.host;
    this.requestedPort = opts.port;
    this.port = opts.port;
    this.forwards = !!opts.forward;
    this.allow = parseAllowFrom(opts.allowFrom);
  }

  status(): ListenerStatus {
    const protocols: ('udp' | 'tcp')[] = [];
    if (this.udp || this.native) protocols.push('udp');
    if (this.tcp) protocols.push('tcp');
    return {
      address: this.host,
      port: this.port,
      protocols,
      up: !!((this.udp || this.native) && this.tcp),
      error: this.error,
      forwards: this.forwards,
      udp: this.udpPath,
    };
  }

  /** Bind UDP then TCP on the same port. Never throws: failure is kept in status(). */
  async start(): Promise<void> {
    this.error = null;
    // With port 0, UDP picks the port and TCP may find it taken: try a few.
    for (let attempt = 0; attempt < (this.requestedPort === 0 ? 8 : 1); attempt++) {
      try {
        this.port = await this.bindUdp(this.requestedPort);
      } catch (err) {
        this.error = `udp ${this.host}:${this.requestedPort}: ${describe(err)}`;
        break;
      }
      try {
        this.tcp = await this.bindTcp(this.port);
        this.error = null;
        return;
      } catch (err) {
        this.error = `tcp ${this.host}:${this.port}: ${describe(err)}`;
        this.closeUdp();
      }
    }
    this.port = this.requestedPort;
    this.logger.warn('dns listener down', { address: this.host, port: this.requestedPort, error: this.error });
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    this.closeUdp(true);
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  /** Fold the native thread's counts into the Responder's, so stats() stays cumulative. */
  addNativeStats(into: DnsStats): void {
    this.native?.addStats(into);
  }

  /** The native socket (and, unless `keepDgram`, the dgram one) closed. */
  private closeUdp(keepDgram = false): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.native) {
      this.native.addStats(this.responder.stats);
      this.native.close();
      this.native = null;
    }
    if (!keepDgram && this.udp) {
      this.udp.close();
      this.udp = null;
    }
  }

  /** Bind UDP on the chosen path; resolves with the bound port. */
  private async bindUdp(port: number): Promise<number> {
    if (this.udpPath === 'dgram') {
      this.udp = await this.bindDgram(port);
      return this.udp.address().port;
    }
    const native = new NativeUdp(this.host, port, (msg, address, from) => this.onUdp(native, msg, address, from));
    const load = () => native.setTable(encodeTable(this.responder.hotAnswers()));
    load();
    this.unsubscribe = this.responder.onRebuild(load);
    this.native = native;
    return native.port;
  }

  private bindDgram(port: number): Promise<UdpSocket> {
    const sock = createSocket({ type: isIP(this.host) === 6 ? 'udp6' : 'udp4', lookup: literalLookup as never });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: this.host, port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.logger.warn('dns udp socket error', { error: String(err) }));
        try {
          sock.setRecvBufferSize(4 << 20);
        } catch {
          /* capped by rmem_max: fine */
        }
        sock.on('message', (msg, rinfo) => this.onUdp(sock, msg, rinfo.address, rinfo.port));
        resolve(sock);
      });
    });
  }

  private bindTcp(port: number): Promise<Server> {
    const server = createServer((c) => this.onConnection(c));
    server.maxConnections = 512;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.warn('dns tcp server error', { error: String(err) }));
        resolve(server);
      });
    });
  }

  private onUdp(sock: UdpOut, msg: Buffer, address: string, port: number): void {
    let out: Buffer | null | typeof FORWARD;
    try {
      out = this.responder.respond(msg, true, this.forwards);
    } catch (err) {
      this.responder.stats.dropped++;
      this.logger.error('dns responder failed', { error: String(err) });
      return;
    }
    if (out === null) return;
    if (out === FORWARD) {
      this.forwardQuery(msg, address, true, (r) => sock.send(r, port, address));
      return;
    }
    sock.send(out, port, address);
  }

  private forwardQuery(msg: Buffer, src: string, udp: boolean, deliver: (reply: Buffer) => void): void {
    const qEnd = this.responder.lastQuestionEnd;
    if (!this.forwarder || !this.allow.check(src, isIP(src) === 6 ? 'ipv6' : 'ipv4')) {
      const r = this.responder.refuse(msg, udp);
      if (r) deliver(r);
      return;
    }
    this.responder.stats.forwarded++;
    this.forwarder.forward(msg, qEnd, (reply) => {
      if (reply) {
        deliver(reply);
        return;
      }
      this.responder.stats.servfail++;
      deliver(questionReply(msg, RCODE_SERVFAIL, qEnd));
    });
  }

  /** RFC 7766 framing: 2-byte length, several queries per connection, idle timeout. */
  private onConnection(c: Socket): void {
    this.conns.add(c);
    c.setNoDelay(true);
    c.setTimeout(this.tcpIdleMs, () => c.destroy());
    c.on('error', () => {
      /* peer reset: nothing to do */
    });
    c.on('close', () => this.conns.delete(c));
    const src = c.remoteAddress ?? '';
    const write = (reply: Buffer) => {
      if (c.destroyed) return;
      const framed = Buffer.allocUnsafe(reply.length + 2);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      c.write(framed);
    };
    let pending: Buffer | null = null;
    c.on('data', (chunk: Buffer) => {
      let buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < n + 2) break;
        const msg = buf.subarray(2, n + 2);
        buf = buf.subarray(n + 2);
        let out: Buffer | null | typeof FORWARD;
        try {
          out = this.responder.respond(msg, false, this.forwards);
        } catch (err) {
          this.responder.stats.dropped++;
          this.logger.error('dns responder failed', { error: String(err) });
          out = null;
        }
        if (out === FORWARD) this.forwardQuery(Buffer.from(msg), src, false, write);
        else if (out) write(out);
        else {
          c.destroy();
          return;
        } // garbage on a stream: the framing can no longer be trusted
      }
      if (buf.length > 0) pending = Buffer.from(buf);
    });
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return 'address already in use (EADDRINUSE)';
  if (e?.code === 'EADDRNOTAVAIL') return 'address not available on this host (EADDRNOTAVAIL)';
  if (e?.code === 'EACCES') return 'permission denied (EACCES; ports below 1024 need root or CAP_NET_BIND_SERVICE)';
  return e?.message ?? String(err);
}
