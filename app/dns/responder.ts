// The zone's answers. Every answer is precomputed bytes (rebuilt only when the record set
// changes); a reply is header + the query's own question bytes (so the case is echoed) + those
// bytes + an OPT when the query had one. dns-packet only decodes the rare legal-but-odd query.
import dnsPacket from 'dns-packet';
import { BangerError, ErrorCodes } from '../base/errors.js';
import {
  C_ANY,
  C_IN,
  OUR_UDP_SIZE,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_REFUSED,
  T_A,
  T_ANY,
  T_NS,
  T_SOA,
  V_BADVERS,
  V_DROP,
  V_FAST,
  V_NOTIMP,
  V_SLOW,
  encodeName,
  foldEquals,
  foldHash,
  headerOnlyReply,
  newParsed,
  parseQuery,
  type ParsedQuery,
} from './wire.js';
import { normaliseZone } from './zone.js';
import { emptyStats, normaliseRecord, type DnsRecord, type DnsStats } from './records.js';

export { normaliseZone };
// The record and stats shapes live in records.ts; importers of this file keep finding them here.
export { emptyStats, normaliseRecord, type DnsRecord, type DnsStats } from './records.js';

/**
 * What the native path needs to build the hot replies exactly as build() does: the zone's wire
 * name, the NXDOMAIN and NODATA tails (SOA in authority), and each name's A answer tail.
 */
export interface HotAnswers {
  zone: Buffer;
  nxdomain: Buffer;
  nodata: Buffer;
  names: { wire: Buffer; tail: Buffer }[];
}

/** Returned by respond() for a valid out-of-zone query on a forwarding listener. */
export const FORWARD = Symbol('forward');

type StatKey = 'noerror' | 'nxdomain' | 'nodata' | 'refused';
interface Answer {
  rcode: number;
  aa: boolean;
  an: number;
  ns: number;
  tail: Buffer;
  stat: StatKey;
}
interface Entry {
  wire: Buffer;
  hash: number;
  next: Entry | null;
  apex: boolean;
  a: Answer | null;
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}
function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
/** One resource record; `owner` is wire bytes (0xc0 0x0c points at the question's name). */
function rr(owner: number[] | Buffer, type: number, ttl: number, rdata: number[] | Buffer): number[] {
  return [...owner, ...u16(type), ...u16(C_IN), ...u32(ttl), ...u16(rdata.length), ...rdata];
}
const PTR_QNAME = [0xc0, 0x0c];

export class Responder {
  readonly zone: string;
  readonly ttl: number;
  readonly stats: DnsStats = emptyStats();
  private readonly zoneWire: Buffer;
  private readonly nsName: Buffer;
  private serial: number;
  private readonly recs = new Map<string, string>();
  // Open hash table: buckets[hash & mask] heads a chain (an array index is cheaper than Map.get).
  private buckets: (Entry | null)[] = [null];
  private mask = 0;
  private nxdomain!: Answer;
  private nodata!: Answer;
  private apexSoa!: Answer;
  private apexNs!: Answer;
  private apexAny!: Answer;
  private readonly refused: Answer = {
    rcode: RCODE_REFUSED,
    aa: false,
    an: 0,
    ns: 0,
    tail: Buffer.alloc(0),
    stat: 'refused',
  };
  // BADVERS is extended rcode 16: 0 in the header, 1 in the OPT's upper byte.
  private readonly badvers: Answer = { rcode: 0, aa: false, an: 0, ns: 0, tail: Buffer.alloc(0), stat: 'refused' };
  private readonly p: ParsedQuery = newParsed();
  // For the native UDP path: the same precomputed bytes, serialised on demand after a rebuild.
  private hot: { wire: Buffer; tail: Buffer }[] = [];
  private readonly rebuilt = new Set<() => void>();

  constructor(zone: string, ttl = 5) {
    this.zone = normaliseZone(zone);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 86400) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `invalid DNS TTL ${ttl}: must be a whole number of seconds from 0 to 86400`,
      );
    }
    this.ttl = ttl;
    this.zoneWire = encodeName(this.zone);
    this.nsName = encodeName(`ns.${this.zone}`);
    this.serial = Math.floor(Date.now() / 1000) >>> 0;
    this.rebuild();
  }

  records(): DnsRecord[] {
    // Names are DNS labels (a-z, 0-9, -): code-point order. localeCompare loaded ICU's collator
    // into the engine (~3 MiB) on the first status call.
    return [...this.recs]
      .map(([name, ip]) => ({ name, ip }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Replace the whole set; validates everything first so bad input changes nothing. */
  setRecords(list: DnsRecord[]): void {
    const clean = list.map(normaliseRecord);
    this.recs.clear();
    for (const r of clean) this.recs.set(r.name, r.ip);
    this.rebuild();
  }

  upsert(name: string, ip: string): void {
    const r = normaliseRecord({ name, ip });
    if (this.recs.get(r.name) === r.ip) return;
    this.recs.set(r.name, r.ip);
    this.rebuild();
  }

  remove(name: string): boolean {
    const gone = this.recs.delete(
      String(name ?? '')
        .trim()
        .toLowerCase(),
    );
    if (gone) this.rebuild();
    return gone;
  }

  /** Precompute every answer; the serial moves so caches see the zone changed. */
  private rebuild(): void {
    this.serial = (this.serial + 1) >>> 0;
    const ttl = this.ttl;
    const hostmaster = encodeName(`hostmaster.${this.zone}`);
    const soaData = [
      ...this.nsName,
      ...hostmaster,
      ...u32(this.serial),
      ...u32(3600),
      ...u32(600),
      ...u32(86400),
      ...u32(ttl),
    ];
    const soaAuth = Buffer.from(rr(this.zoneWire, T_SOA, ttl, soaData));
    const hot: { wire: Buffer; tail: Buffer }[] = [];
    this.nxdomain = { rcode: RCODE_NXDOMAIN, aa: true, an: 0, ns: 1, tail: soaAuth, stat: 'nxdomain' };
    this.nodata = { rcode: RCODE_NOERROR, aa: true, an: 0, ns: 1, tail: soaAuth, stat: 'nodata' };
    const soaAns = rr(PTR_QNAME, T_SOA, ttl, soaData);
    const nsAns = rr(PTR_QNAME, T_NS, ttl, this.nsName);
    this.apexSoa = { rcode: 0, aa: true, an: 1, ns: 0, tail: Buffer.from(soaAns), stat: 'noerror' };
    this.apexNs = { rcode: 0, aa: true, an: 1, ns: 0, tail: Buffer.from(nsAns), stat: 'noerror' };
    this.apexAny = { rcode: 0, aa: true, an: 2, ns: 0, tail: Buffer.from([...soaAns, ...nsAns]), stat: 'noerror' };

    let size = 2;
    while (size < 2 * (this.recs.size + 1)) size *= 2;
    const buckets = new Array<Entry | null>(size).fill(null);
    const mask = size - 1;
    const add = (wire: Buffer, apex: boolean, a: Answer | null) => {
      const hash = foldHash(wire, 0, wire.length);
      buckets[hash & mask] = { wire, hash, apex, a, next: buckets[hash & mask] ?? null };
    };
    add(this.zoneWire, true, null);
    for (const [name, ip] of this.recs) {
      const rdata = ip.split('.').map(Number);
      const wire = encodeName(`${name}.${this.zone}`);
      const tail = Buffer.from(rr(PTR_QNAME, T_A, ttl, rdata));
      add(wire, false, { rcode: 0, aa: true, an: 1, ns: 0, tail, stat: 'noerror' });
      hot.push({ wire, tail });
    }
    // swapped whole, so a reply never sees half a rebuild (and mask always matches buckets)
    this.buckets = buckets;
    this.mask = mask;
    this.hot = hot;
    for (const fn of this.rebuilt) fn();
  }

  /** Call `fn` after every rebuild (the native path reloads its table); returns the unsubscribe. */
  onRebuild(fn: () => void): () => void {
    this.rebuilt.add(fn);
    return () => this.rebuilt.delete(fn);
  }

  /** The precomputed bytes the native UDP path answers from (app/dns/native-udp.ts). */
  hotAnswers(): HotAnswers {
    return { zone: this.zoneWire, nxdomain: this.nxdomain.tail, nodata: this.nodata.tail, names: this.hot };
  }

  /**
   * Answer one query. Returns the reply bytes, null to stay silent, or FORWARD when the name is
   * outside the zone and `forwarding` is set (the caller forwards or asks again without it).
   */
  respond(msg: Buffer, udp: boolean, forwarding: boolean): Buffer | null | typeof FORWARD {
    this.stats.queries++;
    const p = this.p;
    const v = parseQuery(msg, udp, p);
    if (v === V_FAST) return this.answerParsed(msg, msg, p, forwarding);
    if (v === V_DROP) {
      this.stats.dropped++;
      return null;
    }
    if (v === V_NOTIMP) {
      this.stats.notimp++;
      return headerOnlyReply(msg, RCODE_NOTIMP);
    }
    if (v === V_BADVERS) return this.build(msg, msg, p, this.badvers, 1);
    if (v === V_SLOW) return this.slow(msg, forwarding);
    this.stats.formerr++;
    return headerOnlyReply(msg, RCODE_FORMERR);
  }

  /** After respond() returned FORWARD: where msg's question ends (12 if unknown). */
  get lastQuestionEnd(): number {
    return this.p.qEnd;
  }

  /** REFUSED for a query respond() handed back as FORWARD but the source may not use. */
  refuse(msg: Buffer, udp: boolean): Buffer | null {
    const out = this.respond(msg, udp, false);
    this.stats.queries--; // respond() counted it already
    return out === FORWARD ? null : out;
  }

  private answerParsed(msg: Buffer, q: Buffer, p: ParsedQuery, forwarding: boolean): Buffer | typeof FORWARD {
    const qtype = p.qtype;
    let ans: Answer;
    if (p.qclass !== C_IN && p.qclass !== C_ANY) ans = this.refused;
    else {
      const h = p.hash;
      let e: Entry | null = this.buckets[h & this.mask]!;
      while (e !== null && (e.hash !== h || e.wire.length !== p.nameEnd - 12 || !foldEquals(q, 12, e.wire))) e = e.next;
      if (e) {
        if (qtype === 251 || qtype === 252)
          ans = this.refused; // no zone transfers
        else if (e.apex)
          ans =
            qtype === T_SOA
              ? this.apexSoa
              : qtype === T_NS
                ? this.apexNs
                : qtype === T_ANY
                  ? this.apexAny
                  : this.nodata;
        else ans = qtype === T_A || qtype === T_ANY ? e.a! : this.nodata;
      } else if (this.inZone(q, p.nameEnd)) ans = this.nxdomain;
      else if (forwarding) return FORWARD;
      else ans = this.refused;
    }
    return this.build(msg, q, p, ans, 0);
  }

  /** Is the name at q[12, nameEnd) strictly below the zone apex? */
  private inZone(q: Buffer, nameEnd: number): boolean {
    const s = nameEnd - this.zoneWire.length;
    if (s <= 12) return false;
    let at = 12;
    while (at < s) at += 1 + q[at]!; // labels were bounds-checked by the parser
    return at === s && foldEquals(q, s, this.zoneWire);
  }

  /** Header from `msg`, question from `q` (the same buffer except on the careful path). */
  private build(msg: Buffer, q: Buffer, p: ParsedQuery, ans: Answer, extRcode: number): Buffer {
    this.stats[ans.stat]++;
    const qEnd = p.qEnd;
    const tail = ans.tail;
    const tailAt = qEnd;
    const optAt = tailAt + tail.length;
    const out = Buffer.allocUnsafe(p.hasOpt ? optAt + 11 : optAt);
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    out[2] = 0x80 | (ans.aa ? 0x04 : 0) | (msg[2]! & 0x01); // QR, AA, RD copied
    out[3] = (msg[3]! & 0x10) | ans.rcode; // CD copied
    out[4] = 0;
    out[5] = 1;
    out[6] = 0;
    out[7] = ans.an;
    out[8] = 0;
    out[9] = ans.ns;
    out[10] = 0;
    out[11] = p.hasOpt ? 1 : 0;
    for (let i = 12; i < qEnd; i++) out[i] = q[i]!;
    for (let i = 0; i < tail.length; i++) out[tailAt + i] = tail[i]!;
    if (p.hasOpt) {
      out[optAt] = 0; // root owner
      out[optAt + 1] = 0;
      out[optAt + 2] = 41;
      out[optAt + 3] = OUR_UDP_SIZE >> 8;
      out[optAt + 4] = OUR_UDP_SIZE & 0xff;
      out[optAt + 5] = extRcode;
      out[optAt + 6] = 0; // version 0
      out[optAt + 7] = (p.optFlags >> 8) & 0x80;
      out[optAt + 8] = 0; // DO echoed (RFC 3225)
      out[optAt + 9] = 0;
      out[optAt + 10] = 0;
    }
    return out;
  }

  /** Legal but unusual queries: dns-packet decodes (and bounds-checks) them, then we answer a canonical copy. */
  private slow(msg: Buffer, forwarding: boolean): Buffer | typeof FORWARD {
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(msg);
    } catch {
      this.stats.formerr++;
      return headerOnlyReply(msg, RCODE_FORMERR);
    }
    const opts = (decoded.additionals ?? []).filter((a) => a.type === 'OPT') as dnsPacket.OptAnswer[];
    const questions = decoded.questions ?? [];
    const q = questions[0];
    if (questions.length !== 1 || !q || opts.length > 1) {
      this.stats.formerr++;
      return headerOnlyReply(msg, RCODE_FORMERR);
    }
    // QTYPE/QCLASS sit right after the question name as it appears in place (ending at a pointer or zero).
    let at = 12;
    while (at < msg.length && msg[at] !== 0 && (msg[at]! & 0xc0) !== 0xc0) at += 1 + msg[at]!;
    if (at + 5 > msg.length) {
      this.stats.formerr++;
      return headerOnlyReply(msg, RCODE_FORMERR);
    }
    at += msg[at] === 0 ? 1 : 2;
    let name: Buffer;
    try {
      name = encodeName(q.name, true);
    } catch {
      name = Buffer.alloc(0);
    }
    const opt = opts[0];
    const canon = Buffer.from([
      msg[0]!,
      msg[1]!,
      msg[2]!,
      msg[3]!,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      opt ? 1 : 0,
      ...name,
      msg[at]!,
      msg[at + 1]!,
      msg[at + 2]!,
      msg[at + 3]!,
      ...(opt
        ? [0, 0, 41, ...u16(opt.udpPayloadSize ?? 512), 0, opt.ednsVersion ?? 0, ...u16(opt.flags ?? 0), 0, 0]
        : []),
    ]);
    const p = this.p;
    const v = parseQuery(canon, false, p);
    if (v === V_FAST) {
      const r = this.answerParsed(msg, canon, p, forwarding);
      if (r === FORWARD) p.qEnd = 12; // the question bytes are canonical, not msg's: nothing to match a reply against
      return r;
    }
    if (v === V_BADVERS) return this.build(msg, canon, p, this.badvers, 1);
    this.stats.formerr++;
    return headerOnlyReply(msg, RCODE_FORMERR);
  }
}
