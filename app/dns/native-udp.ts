// The batched UDP path: native/dns-udp (built at install by scripts/build-native.mjs) owns the
// socket on its own thread, answers the hot queries with recvmmsg/sendmmsg from the Responder's
// precomputed bytes, and hands every other packet back here, where the JS Responder answers it.
// Where the addon did not build (no compiler, other OS), loading fails and listeners use node:dgram.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DnsStats, HotAnswers } from './responder.js';

interface Addon {
  open(host: string, port: number, onPunted: (msg: Buffer, address: string, port: number) => void): object;
  port(h: object): number;
  setTable(h: object, table: Buffer): void;
  send(h: object, msg: Buffer, address: string, port: number): void;
  stats(h: object): number[];
  close(h: object): void;
}

/** Where the build puts the addon, relative to the package root. */
export const NATIVE_UDP_ADDON = join('native', 'dns-udp', 'build', 'Release', 'banger_dns_udp.node');
let loaded: { addon: Addon | null; error: string | null } | null = null;

/** Load the addon once, looking upwards from this file for the package root (app/ or dist/, bundled or not). */
function load(): { addon: Addon | null; error: string | null } {
  if (loaded) return loaded;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, NATIVE_UDP_ADDON);
    if (!existsSync(file)) continue;
    try {
      loaded = { addon: createRequire(import.meta.url)(file) as Addon, error: null };
    } catch (err) {
      loaded = { addon: null, error: `${file}: ${(err as Error).message}` };
    }
    return loaded;
  }
  loaded = { addon: null, error: `${NATIVE_UDP_ADDON} not built (npm run build:native)` };
  return loaded;
}

/** Why the native path is unavailable, or null when it loads. */
export function nativeUdpUnavailable(): string | null {
  return load().error;
}

/** Serialise the Responder's hot answers in the layout dns_udp.c's table_parse() reads. */
export function encodeTable(h: HotAnswers): Buffer {
  const parts: Buffer[] = [];
  const field = (b: Buffer) => {
    const l = Buffer.allocUnsafe(2);
    l.writeUInt16BE(b.length);
    parts.push(l, b);
  };
  field(h.zone);
  field(h.nxdomain);
  field(h.nodata);
  const n = Buffer.allocUnsafe(4);
  n.writeUInt32BE(h.names.length);
  parts.push(n);
  for (const e of h.names) {
    field(e.wire);
    field(e.tail);
  }
  return Buffer.concat(parts);
}

/** One bound native socket. The thread starts serving at once; answers natively after setTable(). */
export class NativeUdp {
  private h: object | null;
  private readonly addon: Addon;

  /** Binds synchronously; throws an Error with .code (EADDRINUSE, ...) when it cannot. */
  constructor(host: string, port: number, onPunted: (msg: Buffer, address: string, port: number) => void) {
    const addon = load().addon;
    if (!addon) throw new Error(load().error ?? 'native DNS path unavailable');
    this.addon = addon;
    this.h = addon.open(host, port, onPunted);
  }

  get port(): number {
    return this.h ? this.addon.port(this.h) : 0;
  }

  setTable(table: Buffer): void {
    if (this.h) this.addon.setTable(this.h, table);
  }

  send(msg: Buffer, port: number, address: string): void {
    if (this.h) this.addon.send(this.h, msg, address, port);
  }

  /** Add what the thread answered (or shed) itself to `into`. */
  addStats(into: DnsStats): void {
    if (!this.h) return;
    const [queries, noerror, nxdomain, nodata, dropped] = this.addon.stats(this.h);
    into.queries += queries!;
    into.noerror += noerror!;
    into.nxdomain += nxdomain!;
    into.nodata += nodata!;
    into.dropped += dropped!;
  }

  close(): void {
    if (this.h) this.addon.close(this.h);
    this.h = null;
  }
}
