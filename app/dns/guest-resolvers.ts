// The host's resolvers as a guest can use them: IPv4 on port 53 and not loopback (a guest's
// 127.0.0.53 is itself). With systemd-resolved's stub in /etc/resolv.conf, its upstreams are
// in /run/systemd/resolve/resolv.conf.
import { parseResolvConf, type Upstream } from './upstreams.js';
import { readFileSync } from 'node:fs';

const FILES = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'];

function usable(u: Upstream): boolean {
  return u.family === 4 && u.port === 53 && !u.address.startsWith('127.') && u.address !== '0.0.0.0';
}

export function hostResolvers(files: string[] = FILES): string[] {
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const found = parseResolvConf(text).filter(usable);
    if (found.length) return [...new Set(found.map((u) => u.address))];
  }
  return [];
}
