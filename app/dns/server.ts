// The .vm DNS server the engine embeds: one record set, served on one or more listeners
// (127.0.0.1:42069 for the host; optionally the bridge gateway on :53 for guests, which also
// forwards other names upstream). The engine hands it records; it knows nothing of VMs.
import { BangerError, ErrorCodes } from '../base/errors.js';
import { nullLogger, type Logger } from '../base/log.js';
import { Forwarder } from './forwarder.js';
import { Listener, type ListenerOptions, type ListenerStatus, type UdpPath } from './listener.js';
import { nativeUdpUnavailable } from './native-udp.js';
import { Responder, type DnsRecord, type DnsStats } from './responder.js';
import { parseUpstream, systemUpstreams, type Upstream } from './upstreams.js';

export type { DnsRecord, DnsStats } from './responder.js';
export type { ListenerOptions, ListenerStatus, UdpPath } from './listener.js';

export interface DnsServerOptions {
  /** Zone served, default "vm". */
  zone?: string;
  listeners: ListenerOptions[];
  /** TTL of answers and of negative answers (SOA minimum), default 5 s. */
  ttl?: number;
  /** For forwarding listeners: "IP", "IP:PORT", "[v6]:PORT". Default: /etc/resolv.conf nameservers. */
  upstreams?: string[];
  /** Per-try upstream timeout, default 2000 ms. */
  forwardTimeoutMs?: number;
  /** Idle TCP connections are closed after this long, default 10 s. */
  tcpIdleMs?: number;
  /**
   * UDP path: 'native' (batched recvmmsg/sendmmsg thread, native/dns-udp), 'dgram' (node:dgram on
   * the JS thread), or 'auto' (default): BANGER_DNS_UDP if set, else native where it was built.
   */
  udp?: UdpPath | 'auto';
  logger?: Logger;
}

/** Resolve the UDP path; asking for 'native' where it is not built is an error, not a fallback. */
export function chooseUdpPath(want: UdpPath | 'auto' = 'auto'): UdpPath {
  const env = process.env.BANGER_DNS_UDP;
  const w = want === 'auto' && (env === 'native' || env === 'dgram') ? env : want;
  const missing = nativeUdpUnavailable();
  if (w === 'native' && missing) {
    throw new BangerError(ErrorCodes.DNS, `the native DNS UDP path is not available: ${missing}`);
  }
  return w === 'auto' ? (missing ? 'dgram' : 'native') : w;
}

export interface DnsStatus {
  zone: string;
  records: number;
  listeners: ListenerStatus[];
  upstreams: string[];
}

export class DnsServer {
  private readonly responder: Responder;
  private readonly listeners: Listener[];
  private readonly forwarder: Forwarder | null;
  private readonly logger: Logger;
  private started = false;

  /** Validates everything up front (BangerError E_INVALID_ARGUMENT / E_INVALID_NAME); binds nothing. */
  constructor(opts: DnsServerOptions) {
    this.logger = opts.logger ?? nullLogger;
    this.responder = new Responder(opts.zone ?? 'vm', opts.ttl ?? 5);
    if (!Array.isArray(opts.listeners) || opts.listeners.length === 0) {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'DNS server needs at least one listener');
    }
    const forwarding = opts.listeners.filter((l) => l.forward);
    let upstreams: Upstream[] = [];
    if (forwarding.length > 0) {
      upstreams = opts.upstreams ? opts.upstreams.map(parseUpstream) : systemUpstreams();
      // Never forward to ourselves: that would be a loop.
      upstreams = upstreams.filter((u) => !opts.listeners.some((l) => l.host === u.address && l.port === u.port));
    }
    this.forwarder =
      forwarding.length > 0
        ? new Forwarder(upstreams, { timeoutMs: opts.forwardTimeoutMs, logger: this.logger })
        : null;
    const idle = opts.tcpIdleMs ?? 10_000;
    const udp = chooseUdpPath(opts.udp);
    this.listeners = opts.listeners.map(
      (l) => new Listener(l, this.responder, l.forward ? this.forwarder : null, this.logger, idle, udp),
    );
  }

  /** Bind every listener. Never throws for a listener that cannot bind: see status(). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.forwarder) {
      try {
        await this.forwarder.start();
      } catch (err) {
        this.logger.warn('dns forwarder could not start', { error: String(err) });
      }
    }
    await Promise.all(this.listeners.map((l) => l.start()));
    for (const s of this.listeners.map((l) => l.status())) {
      if (s.up)
        this.logger.info('dns listening', {
          address: s.address,
          port: s.port,
          zone: this.responder.zone,
          forwards: s.forwards,
        });
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.forwarder?.stop();
    await Promise.all(this.listeners.map((l) => l.stop()));
  }

  setRecords(records: DnsRecord[]): void {
    this.responder.setRecords(records);
  }
  upsert(name: string, ip: string): void {
    this.responder.upsert(name, ip);
  }
  remove(name: string): boolean {
    return this.responder.remove(name);
  }
  records(): DnsRecord[] {
    return this.responder.records();
  }

  status(): DnsStatus {
    return {
      zone: this.responder.zone,
      records: this.responder.records().length,
      listeners: this.listeners.map((l) => l.status()),
      upstreams: (this.forwarder?.upstreamList ?? []).map((u) =>
        u.family === 6 ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`,
      ),
    };
  }

  /** Cumulative counters since construction; diff two samples for a qps graph. */
  stats(): DnsStats {
    const out = { ...this.responder.stats };
    for (const l of this.listeners) l.addNativeStats(out);
    return out;
  }
}
