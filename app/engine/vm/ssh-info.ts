// How to reach a running VM over ssh: its address, banger's key, its own known_hosts file, and
// the argv the CLI runs (the contract's sshArgv).
import type { SshInfo, VmRecord } from '../../contract/api.js';
import { sshArgv } from '../../contract/ssh-argv.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { vmPaths, type Paths } from '../../base/paths.js';
import type { ImagesPort } from '../ports.js';

export async function sshInfoOf(vm: VmRecord, images: ImagesPort | null, paths: Paths): Promise<SshInfo> {
  if (vm.state !== 'running' || !vm.ip)
    throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is ${vm.state}: start it first`);
  if (!images) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'ssh needs the image service');
  const key = await images.sshKey();
  const knownHosts = vmPaths(paths, vm.id).knownHosts;
  return {
    ip: vm.ip,
    user: 'root',
    keyPath: key.privateKey,
    knownHostsPath: knownHosts,
    argv: sshArgv(vm.ip, key.privateKey, knownHosts),
  };
}
