// The engine's DNS: the loopback listener (never forwards) and, once the bridge exists, a
// guest-facing listener on the gateway (port 53) that also forwards other names for the VM
// subnet. Two servers with one record set, so each keeps its own listener options.
import { DnsServer } from '../dns/server.js';
import type { DnsStatus } from './api.js';
import type { DnsPort } from './ports.js';
import type { Logger } from '../log.js';

export class EngineDns implements DnsPort {
  private readonly main: DnsServer;
  private gateway: DnsServer | null = null;
  /** One gateway start at a time: two VMs starting together must not both bind :53. */
  private gatewayStarting: Promise<void> | null = null;
  private records = new Map<string, string>();

  constructor(
    private readonly o: {
      zone: string;
      host: string;
      port: number;
      logger: Logger;
      onChange?: (records: number) => void;
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
    const gw = new DnsServer({
      zone: this.o.zone,
      listeners: [{ host, port: 53, forward: true, allowFrom }],
      logger: this.o.logger,
    });
    await gw.start();
    // Copied after the bind, so records changed while it started are not missed.
    gw.setRecords([...this.records].map(([name, ip]) => ({ name, ip })));
    const l = gw.status().listeners[0];
    if (l && !l.up) this.o.logger.warn(`guest DNS listener ${host}:53 is down: ${l.error}`);
    this.gateway = gw;
  }

  status(): DnsStatus {
    const m = this.main.status();
    const listeners = [...m.listeners, ...(this.gateway?.status().listeners ?? [])];
    return { zone: m.zone, records: m.records, listeners };
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = { ...this.main.stats() } as unknown as Record<string, number>;
    if (this.gateway) {
      for (const [k, v] of Object.entries(this.gateway.stats())) out[k] = (out[k] ?? 0) + (v as number);
    }
    return out;
  }
}
