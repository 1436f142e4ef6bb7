// The known_hosts file behind `ssh NAME.vm` (banger setup ssh writes the config that names it).
// Host keys are learnt on first contact and pinned by name; a deleted VM's entry is dropped so
// a new VM given the same name (and a new host key) is not refused as an impostor.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Paths } from './paths.js';

export function sshKnownHostsFile(p: Pick<Paths, 'keysDir'>): string {
  return join(p.keysDir, 'known_hosts.vm');
}

/**
 * Drop every entry for host (plain names only: banger's ssh config sets HashKnownHosts no).
 * Best effort, never throws: a key left behind costs one ssh-keygen -R, a failed delete more.
 */
export function forgetHostKey(file: string, host: string): boolean {
  try {
    if (!existsSync(file)) return false;
    const lines = readFileSync(file, 'utf8').split('\n');
    const names = (l: string) => (l.trim().split(/\s+/)[0] ?? '').split(',');
    const kept = lines.filter((l) => !names(l).some((n) => n === host || n.startsWith(`[${host}]:`)));
    if (kept.length === lines.length) return false;
    writeFileSync(file, kept.join('\n'));
    return true;
  } catch {
    return false;
  }
}
