// Where a forwarding listener sends names outside the zone: explicit "ip" / "ip:port" /
// "[v6]:port" strings, or the host's /etc/resolv.conf nameservers.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { BangerError, ErrorCodes } from '../base/errors.js';

export interface Upstream {
  address: string;
  port: number;
  family: 4 | 6;
}

export function parseUpstream(raw: string): Upstream {
  const s = String(raw ?? '').trim();
  let address = s;
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const v4 = /^([^:]+):(\d+)$/.exec(s);
  if (v6) {
    address = v6[1]!;
    port = v6[2] ? Number(v6[2]) : 53;
  } else if (v4) {
    address = v4[1]!;
    port = Number(v4[2]);
  }
  const family = isIP(address);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `invalid DNS upstream "${raw}": use IP, IP:PORT or [IPv6]:PORT`);
  }
  return { address, port, family: family as 4 | 6 };
}

/** The `nameserver` lines of resolv.conf text, in order (scoped IPv6 such as fe80::1%eth0 skipped). */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m || m[1]!.includes('%')) continue;
    try {
      const u = parseUpstream(isIP(m[1]!) === 6 ? `[${m[1]}]` : m[1]!);
      out.push(u);
    } catch {
      /* a line we cannot use is not fatal */
    }
  }
  return out;
}

export function systemUpstreams(file = '/etc/resolv.conf'): Upstream[] {
  try {
    return parseResolvConf(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}
