// The entry point's `ip-forward` verb. A user's banger may turn IPv4 forwarding on (its NAT
// needs it) and later put back what was there before it did, nothing else: `ip-forward 1`
// records, at this user's first enable, the value banger found (root-owned, one file per user
// in DIR/forward/), then turns forwarding on; `ip-forward 0` restores that record and drops
// it. With no record it changes nothing, so no user can turn off forwarding that Docker,
// libvirt or the host's admin turned on. While another user's record stands, forwarding stays
// on (they still need it), and a new record takes the value the first one found.
// Installed as root-owned code: node: builtins and ./policy.js only.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { refuse, type Policy } from './policy.js';

const SYSCTL = '/proc/sys/net/ipv4/ip_forward';

type Step = { run: () => void; what: string } | { argv: string[] };

function recordDir(dir: string): string {
  if (!dir) refuse('ip-forward needs the entry point dir');
  return join(dir, 'forward');
}

function readRecord(file: string): '0' | '1' | null {
  try {
    const v = readFileSync(file, 'utf8').trim();
    return v === '0' || v === '1' ? v : null;
  } catch {
    return null;
  }
}

/** Other users' records: user name -> value. */
function othersRecords(records: string, user: string): Map<string, '0' | '1'> {
  const out = new Map<string, '0' | '1'>();
  let names: string[] = [];
  try {
    names = readdirSync(records);
  } catch {
    /* no records yet */
  }
  for (const n of names) {
    const v = n === user ? null : readRecord(join(records, n));
    if (v) out.set(n, v);
  }
  return out;
}

const set = (v: '0' | '1'): Step => ({ argv: ['sysctl', '-q', '-w', `net.ipv4.ip_forward=${v}`] });

/** `ip-forward 1|0` for this user, with records under dir (the entry point's, root's). */
export function planIpForward(p: Policy, dir: string, value: string): Step[] {
  if (value !== '0' && value !== '1') refuse('ip-forward takes 0 or 1');
  const records = recordDir(dir);
  const mine = join(records, p.user);
  const own = readRecord(mine);
  const others = othersRecords(records, p.user);
  if (value === '1') {
    if (own !== null) return [set('1')];
    const now = readFileSync(SYSCTL, 'utf8').trim() === '1' ? '1' : '0';
    // The host's value before any banger: another user's record has it when theirs came first.
    const before = others.size ? ([...others.values()].includes('0') ? '0' : '1') : now;
    const record = {
      what: `record ip_forward=${before} for ${p.user}`,
      run: () => {
        mkdirSync(records, { recursive: true, mode: 0o700 });
        writeFileSync(mine, `${before}\n`, { mode: 0o600 });
      },
    };
    return [record, set('1')];
  }
  if (own === null) {
    const say = `banger-priv: ip_forward left as it is: nothing recorded for ${p.user}\n`;
    return [{ what: 'nothing to restore', run: () => void process.stderr.write(say) }];
  }
  const drop = { what: `drop ${p.user}'s ip_forward record`, run: () => rmSync(mine, { force: true }) };
  if (own === '1' || others.size > 0) return [drop];
  return [set('0'), drop];
}
