// The engine's DNS: the loopback listener (never forwards) and, once the bridge exists, a
// guest-facing listener on the gateway (port 53) that also forwards other names for the VM
// subnet. Two servers with one record set, so each keeps its own listener options.
import { DnsServer } from '../dns/server.js';
import type { DnsListenerStatus, DnsStatus, GuestResolvers } from '../contract/api.js';
import { hostResolvers } from '../dns/guest-resolvers.js';
import type { DnsPort } from './ports.js';
import type { Logger } from '../base/log.js';
import { describeHolder, portHolder } from '../dns/port-holder.js';
import { wiredTarget } from '../dns/setup.js';
import { BangerError, ErrorCodes } from '../base/errors.js';

/** A listener that is down gets the owner of whatever holds its port (another user's squat). */
function withHolder(l: DnsListenerStatus): DnsListenerStatus;
function withHolder(l: DnsListenerStatus | undefined): DnsListenerStatus | undefined;
function withHolder(l: DnsListenerStatus | undefined): DnsListenerStatus | undefined {
  if (!l || l.up) return l;
  const h = portHolder(l.address, l.port);
  return h && h.uid !== process.getuid?.() ? { ...l, heldBy: { uid: h.uid, user: h.user } } : l;
}

export class DnsPortAdapter implements DnsPort {
  private readonly main: DnsServer;
  private gateway: DnsServer | null = null;
  /** One gateway start at a time: two VMs starting together must not both bind :53. */
  private gatewayStarting: Promise<void> | null = null;
  private records = new Map<string, string>();

  /** The retry of a gateway listener that could not bind (port taken, not root). */
  private retryTimer: NodeJS.Timeout | null = null;
  private retries = 0;
  private stopped = false;

  constructor(
    private readonly o: {
      zone: string;
      host: string;
      port: number;
      logger: Logger;
      onChange?: (records: number) => void;
      /** The guest-facing port; 53 except in tests. */
      gatewayPort?: number;
      /** First retry delay of a gateway listener that is down (doubles up to retryMaxMs). */
      retryMs?: number;
      retryMaxMs?: number;
      /** The host's resolvers guests get while the gateway listener is down. */
      hostResolvers?: () => string[];
    },
  ) {
    this.main = new DnsServer({ zone: o.zone, listeners: [{ host: o.host, port: o.port }], logger: o.logger });
  }

  async start(): Promise<void> {
    await this.main.start();
    for (const l of this.main.status().listeners) {
      if (!l.up) this.o.logger.error(`DNS listener ${l.address}:${l.port} is down: ${l.error}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.gatewayStarting?.catch(() => {});
    await Promise.all([this.main.stop(), this.gateway?.stop()]);
    this.gateway = null;
  }

  private each(fn: (s: DnsServer) => void): void {
    fn(this.main);
    if (this.gateway) fn(this.gateway);
  }

  setRecords(records: { name: string; ip: string }[]): void {
    this.each((s) => s.setRecords(records));
    this.records = new Map(records.map((r) => [r.name, r.ip]));
    this.o.onChange?.(this.records.size);
  }

  upsert(name: string, ip: string): void {
    this.each((s) => s.upsert(name, ip));
    this.records.set(name, ip);
    this.o.onChange?.(this.records.size);
  }

  remove(name: string): void {
    this.each((s) => {
      s.remove(name);
    });
    if (this.records.delete(name)) this.o.onChange?.(this.records.size);
  }

  addGatewayListener(host: string, allowFrom: string): Promise<void> {
    if (this.gateway) return Promise.resolve();
    this.gatewayStarting ??= this.startGateway(host, allowFrom).finally(() => {
      this.gatewayStarting = null;
    });
    return this.gatewayStarting;
  }

  private async startGateway(host: string, allowFrom: string): Promise<void> {
    const port = this.o.gatewayPort ?? 53;
    const gw = new DnsServer({
      zone: this.o.zone,
      listeners: [{ host, port, forward: true, allowFrom }],
      logger: this.o.logger,
    });
    await gw.start();
    // Copied after the bind, so records changed while it started are not missed.
    gw.setRecords([...this.records].map(([name, ip]) => ({ name, ip })));
    const l = gw.status().listeners[0];
    this.gateway = gw;
    if (l && !l.up) {
      this.o.logger.warn(`guest DNS listener ${host}:${port} is down (retrying): ${l.error}`);
      this.scheduleRetry(host, allowFrom);
    } else if (this.retries) {
      this.o.logger.info(`guest DNS listener ${host}:${port} is up after ${this.retries} retries`);
      this.retries = 0;
    }
  }

  /** While the gateway listener is down, try again with a growing delay (1 s .. 30 s). */
  private scheduleRetry(host: string, allowFrom: string): void {
    if (this.stopped || this.retryTimer) return;
    const first = this.o.retryMs ?? 1000;
    const delay = Math.min(this.o.retryMaxMs ?? 30_000, first * 2 ** Math.min(this.retries, 10));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.retries++;
      const old = this.gateway;
      this.gateway = null;
      this.gatewayStarting = (async () => {
        await old?.stop();
        await this.startGateway(host, allowFrom);
      })()
        .catch((err) => this.o.logger.warn('guest DNS listener retry failed', { err: String(err) }))
        .finally(() => {
          this.gatewayStarting = null;
        });
    }, delay);
    this.retryTimer.unref();
  }

  gatewayHeld(): boolean {
    const l = this.gateway?.status().listeners[0];
    return !!l && !!withHolder(l).heldBy;
  }

  /** Is the guest-facing listener bound? */
  gatewayUp(): boolean {
    return this.gateway?.status().listeners[0]?.up ?? false;
  }

  /**
   * What a guest starting now is told to use: the gateway when its listener is up; while it is
   * down, the host's resolvers (those a guest can reach: IPv4, port 53, not loopback); if there
   * are none, still the gateway, which answers once a retry binds it.
   */
  guestResolvers(gateway: string): GuestResolvers {
    if (this.gatewayUp()) return { via: 'gateway', servers: [gateway] };
    const host = (this.o.hostResolvers ?? hostResolvers)().slice(0, 2);
    if (host.length) return { via: 'host', servers: host };
    return { via: 'gateway-down', servers: [gateway] };
  }

  status(): DnsStatus {
    const m = this.main.status();
    const listeners = [...m.listeners, ...(this.gateway?.status().listeners ?? [])].map((l) => withHolder(l));
    const gw = this.gateway?.status().listeners[0];
    return {
      zone: m.zone,
      records: m.records,
      listeners,
      ...(gw ? { guests: this.guestResolvers(gw.address) } : {}),
    };
  }

  async assertWiredUp(): Promise<void> {
    const l = withHolder(this.main.status().listeners[0]);
    if (!l || l.up) return;
    const wired = wiredTarget();
    if (!wired || wired.port !== l.port || (wired.address !== l.address && l.address !== '0.0.0.0')) return;
    await this.stop().catch(() => {});
    const who = l.heldBy ? `held by ${describeHolder({ ...l.heldBy, proto: 'udp' })}` : `not bindable (${l.error})`;
    throw new BangerError(
      ErrorCodes.DNS_PORT_TAKEN,
      `DNS port ${l.address}:${l.port} is ${who}, and the host resolver sends .${this.o.zone} lookups there (banger dns setup --apply): not starting an engine that cannot answer them. Stop that process, or set dnsAddr to a free port and re-run banger dns setup --apply`,
      { details: { address: l.address, port: l.port, ...(l.heldBy ? { heldBy: l.heldBy } : {}) } },
    );
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = { ...this.main.stats() } as unknown as Record<string, number>;
    if (this.gateway) {
      for (const [k, v] of Object.entries(this.gateway.stats())) out[k] = (out[k] ?? 0) + (v as number);
    }
    return out;
  }
}
