// Engine side of the privileged entry point: where it lives, and which verb stands for each
// privileged command the engine issues (the engine keeps writing plain argv; a non-root
// runner sends `sudo -n ENTRY VERB ARGS` instead, and the entry point rebuilds the command).
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

export const DEFAULT_PRIV_DIR = '/usr/local/libexec/banger';
export const ENTRY_NAME = 'banger-priv';

/** The entry point's dir: BANGER_PRIV_DIR (tests install their own) or the default. */
export function privDir(env: Record<string, string | undefined> = process.env): string {
  return env.BANGER_PRIV_DIR || DEFAULT_PRIV_DIR;
}

export function entryPath(env: Record<string, string | undefined> = process.env): string {
  return join(privDir(env), ENTRY_NAME);
}

/** The installed entry point, or null (then privileged commands go to `sudo -n` as they are). */
export function installedEntry(env: Record<string, string | undefined> = process.env): string | null {
  const p = entryPath(env);
  return existsSync(p) ? p : null;
}

const eq = (a: string[], b: (string | null)[]) => a.length === b.length && b.every((x, i) => x === null || x === a[i]);

/** [verb, ...args] for a privileged argv, or null when no verb stands for it. */
export function verbFor(argv: string[]): string[] | null {
  const [cmd, ...a] = argv;
  const ip = cmd === 'ip';
  if (ip && eq(a, ['link', 'add', 'name', null, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']))
    return ['bridge-add', a[3]];
  if (ip && eq(a, ['addr', 'add', null, 'dev', null])) return ['addr-add', a[4], a[2]];
  if (ip && eq(a, ['link', 'set', 'dev', null, 'up'])) return ['link-up', a[3]];
  if (ip && eq(a, ['link', 'del', 'dev', null])) return ['link-del', a[3]];
  if (ip && eq(a, ['tuntap', 'add', 'dev', null, 'mode', 'tap', 'user', null])) return ['tap-add', a[3], a[7]];
  if (ip && eq(a, ['link', 'set', 'dev', null, 'alias', null, 'master', null, 'up']))
    return ['tap-attach', a[3], a[5], a[7]];
  if (cmd === 'nft' && eq(a, ['-f', '-'])) return ['nft-apply'];
  if (cmd === 'nft' && eq(a, ['list', 'table', 'inet', null])) return ['nft-list', a[3]];
  if (cmd === 'nft' && eq(a, ['delete', 'table', 'inet', null])) return ['nft-delete', a[3]];
  if (cmd === 'nft' && eq(a, ['list', 'tables'])) return ['nft-tables'];
  if (cmd === 'iptables' && eq(a, ['-S', 'FORWARD'])) return ['iptables-list'];
  if (cmd === 'iptables' && a[0] === '-t' && a.length > 4) return ['iptables', a[2], a[1], ...a.slice(3)];
  if (cmd === 'sysctl' && a.length === 3 && a[0] === '-q' && a[1] === '-w' && /^net\.ipv4\.ip_forward=[01]$/.test(a[2]))
    return ['ip-forward', a[2].slice(-1)];
  if (cmd === 'kill' && a.length === 2 && /^-(TERM|KILL)$/.test(a[0])) return ['kill', a[0].slice(1), a[1]];
  if (cmd === 'chown' && a.length === 3 && a[0] === '-h') return ['chown-sock', a[2]];
  // The Firecracker sudo fallback: the launcher's argv (binary, then --api-sock first).
  if (a[0] === '--api-sock' && basename(cmd).includes('firecracker') && cmd.startsWith('/'))
    return ['firecracker', cmd, ...a];
  // Firecracker under its jailer (jailer.ts's argv), and removing one jail after its VM.
  if (a[0] === '--id' && basename(cmd).includes('jailer') && cmd.startsWith('/')) return ['jailer', cmd, ...a];
  if (cmd === 'rm' && eq(a, ['-rf', '--one-file-system', '--', null]) && a[3].startsWith('/')) return ['jail-rm', a[3]];
  // A normal user's debian build (debian-rootfs.ts): the verb checks suite, mirror, packages and output.
  if (cmd === 'debootstrap-image' && a.length === 4) return ['debootstrap-image', ...a];
  return null;
}
