// The first-boot sections of the seed: NoCloud's meta-data and user-data (read by cloud-init
// where the image has it), the SSH keys 10-keys installs at every boot, and what banger's own
// runner (30-firstboot) applies where cloud-init is absent.
import { stringify } from 'yaml';
import { parseUserData } from '../../../contract/user-data.js';
import { compileCloudConfig, compileScript } from './cloud-config.js';
import type { SeedContext, SeedFiles, SeedSection } from './sections.js';

/** NoCloud: instance-id (the VM id: a clone is a new instance) and local-hostname (its name). */
export const cloudInitSection: SeedSection = {
  name: 'cloud-init',
  files({ vm }: SeedContext): SeedFiles {
    const meta: Record<string, unknown> = { 'instance-id': vm.id, 'local-hostname': vm.name };
    if (vm.sshKeys?.length) meta['public-keys'] = vm.sshKeys;
    return {
      'meta-data': stringify(meta),
      // cloud-init wants the file; an empty cloud-config changes nothing.
      'user-data': vm.userData || '#cloud-config\n',
      'banger/instance-id': `${vm.id}\n`,
    };
  },
};

/** --ssh-key keys and the cloud-config's ssh_authorized_keys, one per line. */
export const keysSection: SeedSection = {
  name: 'keys',
  files({ vm }: SeedContext): SeedFiles {
    const keys = [...(vm.sshKeys ?? [])];
    const u = parseUserData(vm.userData);
    if (u.kind === 'cloud-config') for (const k of u.config.sshAuthorizedKeys) if (!keys.includes(k)) keys.push(k);
    return keys.length ? { 'banger/keys': keys.join('\n') + '\n' } : {};
  },
};

/** The user-data compiled for banger's runner: a cloud-config's subset, or a #! script as is. */
export const firstbootSection: SeedSection = {
  name: 'firstboot',
  files({ vm }: SeedContext): SeedFiles {
    const u = parseUserData(vm.userData);
    if (u.kind === 'script') return compileScript(vm.userData!);
    if (u.kind === 'cloud-config') return compileCloudConfig(u.config);
    return {};
  },
};
