// The ssh command line is built here, in the front end, from the VM record: an engine (or
// whatever answers on the socket) only says which VM and where; it never picks the program,
// the key or the known_hosts file this user's ssh runs with.
import { isIP } from 'node:net';
import type { EngineApi, VmRecord } from '../contract/api.js';
import { sshArgv } from '../contract/ssh-argv.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { vmPaths, type Paths } from '../base/paths.js';

export type SshPaths = Pick<Paths, 'sshKey' | 'vmsDir' | 'runtimeDir'>;

export async function clientSshArgv(engine: EngineApi, paths: SshPaths, name: string): Promise<string[]> {
  return (await clientSsh(engine, paths, name)).argv;
}

/** The argv and the record it was built from (vm exec keys its ssh master by the VM's id and IP). */
export async function clientSsh(
  engine: EngineApi,
  paths: SshPaths,
  name: string,
): Promise<{ argv: string[]; vm: VmRecord }> {
  // The engine still checks the VM runs and makes sure the key exists; its argv is not used.
  const [, vm] = await Promise.all([engine.sshInfo(name), engine.getVm(name)]);
  if (vm.state !== 'running')
    throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is ${vm.state}: start it first`);
  if (typeof vm.ip !== 'string' || isIP(vm.ip) !== 4)
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `VM "${vm.name}" has no valid IPv4 address: ${String(vm.ip)}`);
  if (typeof vm.id !== 'string' || !/^[0-9a-f]{1,64}$/.test(vm.id))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `VM "${vm.name}" has a malformed id`);
  return { argv: sshArgv(vm.ip, paths.sshKey, vmPaths(paths, vm.id).knownHosts), vm };
}
