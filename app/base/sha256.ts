// SHA-256 of a short string in plain JS (FIPS 180-4), for the runtime dir's tag (paths.ts): every
// CLI verb names that dir, and loading node:crypto for 8 hex digits would cost each verb ~2 ms of
// Node internals. test/base/sha256.test.ts checks it against node:crypto.
const K = new Uint32Array(64);
const H0 = new Uint32Array(8);

/** The constants: fractional parts of the cube (K) and square (H0) roots of the first primes. */
function init(): void {
  let n = 0;
  for (let p = 2; n < 64; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) if (p % d === 0) prime = false;
    if (!prime) continue;
    if (n < 8) H0[n] = ((Math.sqrt(p) % 1) * 2 ** 32) >>> 0;
    K[n++] = ((Math.cbrt(p) % 1) * 2 ** 32) >>> 0;
  }
}

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

function block(h: Uint32Array, w: Uint32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
    const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
  }
  let [a, b, c, d, e, f, g, hh] = h as unknown as number[];
  for (let i = 0; i < 64; i++) {
    const t1 = (hh! + (rotr(e!, 6) ^ rotr(e!, 11) ^ rotr(e!, 25)) + ((e! & f!) ^ (~e! & g!)) + K[i]! + w[i]!) >>> 0;
    const t2 = ((rotr(a!, 2) ^ rotr(a!, 13) ^ rotr(a!, 22)) + ((a! & b!) ^ (a! & c!) ^ (b! & c!))) >>> 0;
    [hh, g, f, e, d, c, b, a] = [g, f, e, (d! + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
  }
  [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i]! + v!) >>> 0));
}

export function sha256Hex(text: string): string {
  if (K[0] === 0) init();
  const bytes = Buffer.from(text, 'utf8');
  const len = Math.ceil((bytes.length + 9) / 64) * 64;
  const msg = Buffer.alloc(len);
  bytes.copy(msg);
  msg[bytes.length] = 0x80;
  msg.writeUInt32BE(Math.floor((bytes.length * 8) / 2 ** 32), len - 8);
  msg.writeUInt32BE((bytes.length * 8) >>> 0, len - 4);
  const h = H0.slice();
  const w = new Uint32Array(64);
  for (let off = 0; off < len; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = msg.readUInt32BE(off + i * 4);
    block(h, w);
  }
  return [...h].map((v) => v.toString(16).padStart(8, '0')).join('');
}
