// banger's managed SSH keypair (authorized in every image) and the ssh command line for a VM.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ProcessRunner } from '../../base/process.js';
import { ensurePrivateDir, type Paths } from '../../base/paths.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export interface SshKey {
  keyPath: string;
  publicKey: string;
}

const pending = new Map<string, Promise<SshKey>>();

/** Create the ed25519 key under paths.keysDir on first use; later calls read it. */
export function ensureSshKey(runner: ProcessRunner, paths: Paths): Promise<SshKey> {
  const keyPath = paths.sshKey;
  let p = pending.get(keyPath);
  if (!p) {
    p = (async () => {
      if (!existsSync(keyPath) || !existsSync(`${keyPath}.pub`)) {
        ensurePrivateDir(paths.keysDir);
        await runner.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'banger', '-f', keyPath], {
          input: 'y\n',
        });
      }
      return { keyPath, publicKey: readFileSync(`${keyPath}.pub`, 'utf8').trim() };
    })();
    pending.set(keyPath, p);
    // Only concurrent callers share the promise; later calls look at the files again.
    p.then(
      () => pending.delete(keyPath),
      () => pending.delete(keyPath),
    );
  }
  return p;
}

/** argv for `banger vm ssh`: the system ssh, banger's key only, one known_hosts file per VM. */
export function sshArgv(ip: string, keyPath: string, knownHostsPath: string, remote: string[] = []): string[] {
  if (isIP(ip) !== 4) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `not an IPv4 address: "${ip}"`);
  return [
    'ssh',
    '-i',
    keyPath,
    '-o',
    `UserKnownHostsFile=${knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    'IdentitiesOnly=yes',
    // Key auth only: never stop to ask for a password (a TUI or a script is waiting).
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    `root@${ip}`,
    ...remote,
  ];
}
