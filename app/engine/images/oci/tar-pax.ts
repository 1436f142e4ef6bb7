// Extended attributes from a layer's PAX headers, as bytes. tar-stream decodes every PAX value
// as UTF-8, which mangles binary xattrs (security.capability is a binary struct): its decoder is
// replaced, once, by one that keeps `SCHILY.xattr.*` values as Buffers and the rest as before.
import tarHeaders from 'tar-stream/headers.js';

const XATTR = 'SCHILY.xattr.';
const LIBARCHIVE = 'LIBARCHIVE.xattr.';

function decodePax(buf: Buffer): Record<string, string | Buffer> {
  const result: Record<string, string | Buffer> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.subarray(0, i).toString(), 10);
    if (!len) return result;
    const record = buf.subarray(i + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) return result;
    const key = record.subarray(0, eq).toString();
    const value = record.subarray(eq + 1);
    result[key] = key.startsWith(XATTR) ? Buffer.from(value) : value.toString();
    buf = buf.subarray(len);
  }
  return result;
}

(tarHeaders as { decodePax: typeof decodePax }).decodePax = decodePax;

/** The entry's xattrs (name -> raw value), or undefined when it has none. */
export function rawXattrs(pax: Record<string, string | Buffer> | null | undefined): Record<string, Buffer> | undefined {
  if (!pax) return undefined;
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith(XATTR)) out[k.slice(XATTR.length)] = Buffer.isBuffer(v) ? v : Buffer.from(v);
    // libarchive's form: a URL-encoded name and a base64 value.
    else if (k.startsWith(LIBARCHIVE))
      out[decodeURIComponent(k.slice(LIBARCHIVE.length))] = Buffer.from(String(v), 'base64');
  }
  return Object.keys(out).length ? out : undefined;
}
