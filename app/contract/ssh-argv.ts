// The ssh command line for a VM: the engine answers it (vm ssh over the wire) and the CLI runs
// it, so it is part of the contract. Pure.
import { isIP } from 'node:net';
import { BangerError, ErrorCodes } from '../base/errors.js';

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
