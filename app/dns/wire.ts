// Hand-checked DNS wire handling for the one shape of query we answer at speed: one question,
// no answer/authority records, at most one plain OPT. Everything here works on raw bytes
// without allocating, because a per-packet object or string is what makes a naive server slow.

export const T_A = 1;
export const T_NS = 2;
export const T_SOA = 6;
export const T_OPT = 41;
export const T_ANY = 255;
export const C_IN = 1;
export const C_ANY = 255;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

/** Largest query we ever look at; a real question with OPT is far below this. */
export const MAX_QUERY = 4096;
/** RFC 1035: a UDP message without EDNS is at most 512 bytes. */
export const MAX_PLAIN_UDP = 512;
/** The UDP payload size we advertise in our OPT (the DNS flag day 2020 value). */
export const OUR_UDP_SIZE = 1232;

/** What the fast parser decided about a packet. */
export const V_FAST = 0; // a well-formed query we can answer from precomputed bytes
export const V_DROP = 1; // no readable header, or not a query: stay silent
export const V_FORMERR = 2; // readable header, bad body
export const V_NOTIMP = 3; // an opcode we do not serve
export const V_SLOW = 4; // legal but unusual (compression in the question, extra records): dns-packet decodes it
export const V_BADVERS = 5; // EDNS version we do not speak

/** Scratch result of parseQuery; one instance is reused for every packet. */
export interface ParsedQuery {
  nameEnd: number; // offset just after the question name's terminating zero
  qEnd: number; // offset just after QTYPE/QCLASS
  qtype: number;
  qclass: number;
  hash: number; // case-folded FNV-1a of the question name bytes
  hasOpt: boolean;
  optFlags: number; // the OPT's 16-bit flags (DO is 0x8000)
}

export function newParsed(): ParsedQuery {
  return { nameEnd: 0, qEnd: 0, qtype: 0, qclass: 0, hash: 0, hasOpt: false, optFlags: 0 };
}

/** ASCII case folding of one byte (length bytes are <= 63, so they are never touched). */
export function fold(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Case-folded FNV-1a over buf[start, end). */
export function foldHash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ fold(buf[i]!), 0x01000193);
  return h >>> 0;
}

/** Case-insensitive compare of a[aStart, aStart+b.length) against b (already lowercase). */
export function foldEquals(a: Uint8Array, aStart: number, b: Uint8Array): boolean {
  if (aStart + b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (fold(a[aStart + i]!) !== b[i]) return false;
  return true;
}

/**
 * Check a query by hand. `udp` applies the 512-byte limit to queries without EDNS.
 * Returns a V_* verdict and fills `out` when it is V_FAST (and qEnd when V_BADVERS).
 */
export function parseQuery(msg: Uint8Array, udp: boolean, out: ParsedQuery): number {
  const len = msg.length;
  if (len < 12) return V_DROP;
  const f2 = msg[2]!;
  if (f2 & 0x80) return V_DROP; // a response: answering it invites loops
  if (len > MAX_QUERY) return V_FORMERR;
  if ((f2 & 0x78) !== 0) return V_NOTIMP; // opcode other than QUERY
  const qd = (msg[4]! << 8) | msg[5]!;
  const an = (msg[6]! << 8) | msg[7]!;
  const ns = (msg[8]! << 8) | msg[9]!;
  const ar = (msg[10]! << 8) | msg[11]!;
  if (qd !== 1 || an !== 0 || ns !== 0 || ar > 2) return V_FORMERR;

  // Question name: plain labels only; a pointer sends the packet to the careful path.
  let p = 12;
  let h = 0x811c9dc5;
  for (;;) {
    if (p >= len) return V_FORMERR;
    const l = msg[p]!;
    if (l === 0) {
      h = Math.imul(h ^ 0, 0x01000193);
      p++;
      break;
    }
    if ((l & 0xc0) === 0xc0) return len <= MAX_PLAIN_UDP ? V_SLOW : V_FORMERR;
    if (l > 63) return V_FORMERR; // 0x40/0x80 label types are obsolete
    if (p + 1 + l > len || p + 1 + l - 12 > 254) return V_FORMERR;
    for (let i = p; i <= p + l; i++) h = Math.imul(h ^ fold(msg[i]!), 0x01000193);
    p += 1 + l;
  }
  if (p + 4 > len) return V_FORMERR;
  out.nameEnd = p;
  out.qtype = (msg[p]! << 8) | msg[p + 1]!;
  out.qclass = (msg[p + 2]! << 8) | msg[p + 3]!;
  out.qEnd = p + 4;
  out.hash = h >>> 0;
  p += 4;

  if (ar === 0) {
    out.hasOpt = false;
    if (p !== len) return V_FORMERR;
    if (udp && len > MAX_PLAIN_UDP) return V_FORMERR;
    return V_FAST;
  }
  if (ar === 2) return len <= MAX_PLAIN_UDP ? V_SLOW : V_FORMERR;
  // One additional record: fast only if it is a well-formed OPT ending the packet exactly.
  if (p + 11 > len) return V_FORMERR;
  if (msg[p] !== 0 || ((msg[p + 1]! << 8) | msg[p + 2]!) !== T_OPT) {
    return len <= MAX_PLAIN_UDP ? V_SLOW : V_FORMERR;
  }
  const rdlen = (msg[p + 9]! << 8) | msg[p + 10]!;
  if (p + 11 + rdlen !== len) return V_FORMERR;
  out.hasOpt = true;
  out.optFlags = (msg[p + 7]! << 8) | msg[p + 8]!;
  if (msg[p + 6] !== 0) return V_BADVERS;
  return V_FAST;
}

/** Encode a dotted name as uncompressed wire labels (lowercased unless keepCase). */
export function encodeName(name: string, keepCase = false): Buffer {
  const trimmed = keepCase ? name.replace(/\.$/, '') : name.replace(/\.$/, '').toLowerCase();
  const labels = trimmed === '' ? [] : trimmed.split('.');
  const parts: number[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0);
  return Buffer.from(parts);
}

/** A header-only reply (FORMERR, NOTIMP) for a packet whose body we will not trust. */
export function headerOnlyReply(msg: Uint8Array, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out[0] = msg[0]!;
  out[1] = msg[1]!;
  out[2] = 0x80 | (msg[2]! & 0x79); // QR, keep opcode and RD
  out[3] = rcode;
  return out;
}

/** A reply carrying only the header and, when qEnd > 12, the query's question (SERVFAIL, REFUSED after the fact). */
export function questionReply(msg: Uint8Array, rcode: number, qEnd: number): Buffer {
  const withQ = qEnd > 12 && qEnd <= msg.length;
  const out = Buffer.alloc(withQ ? qEnd : 12);
  out[0] = msg[0]!;
  out[1] = msg[1]!;
  out[2] = 0x80 | (msg[2]! & 0x79);
  out[3] = 0x80 | rcode; // RA: this listener does recurse for the caller, via upstreams
  if (withQ) {
    out[5] = 1;
    for (let i = 12; i < qEnd; i++) out[i] = msg[i]!;
  }
  return out;
}
