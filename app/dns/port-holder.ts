// Who holds a local port: the kernel's socket tables (/proc/net/{udp,tcp}[6]) give each
// socket's owner uid, for any user's socket, without privileges. Used to say "held by uid N"
// when our DNS listener cannot bind, instead of serving as if all were well.
import { readFileSync } from 'node:fs';

export interface PortHolder {
  uid: number;
  user: string | null;
  proto: 'udp' | 'tcp';
}

/** /proc/net's hex address ("0100007F" little-endian IPv4, or 32 hex digits of IPv6). */
function decodeAddr(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  return /^0+$/.test(hex) ? '::' : hex;
}

function userName(uid: number, passwd: string): string | null {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && Number(f[2]) === uid) return f[0];
  }
  return null;
}

/** The first socket bound to host:port (or a wildcard that covers it), or null. */
export function portHolder(
  host: string,
  port: number,
  o: { procNet?: string; passwd?: string } = {},
): PortHolder | null {
  const dir = o.procNet ?? '/proc/net';
  for (const [file, proto] of [
    ['udp', 'udp'],
    ['tcp', 'tcp'],
    ['udp6', 'udp'],
    ['tcp6', 'tcp'],
  ] as const) {
    let text = '';
    try {
      text = readFileSync(`${dir}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      const [addrHex, portHex] = f[1].split(':');
      // TCP: listening sockets only (state 0A); UDP has no state worth filtering.
      if (proto === 'tcp' && f[3] !== '0A') continue;
      if (parseInt(portHex, 16) !== port) continue;
      const addr = decodeAddr(addrHex);
      if (addr !== host && addr !== '0.0.0.0' && addr !== '::') continue;
      const uid = Number(f[7]);
      let passwd = o.passwd;
      if (passwd === undefined) {
        try {
          passwd = readFileSync('/etc/passwd', 'utf8');
        } catch {
          passwd = '';
        }
      }
      return { uid, user: userName(uid, passwd), proto };
    }
  }
  return null;
}

export function describeHolder(h: PortHolder): string {
  return `uid ${h.uid}${h.user ? ` (${h.user})` : ''}`;
}
