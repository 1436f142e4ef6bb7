// Whether Firecracker needs sudo: it needs only /dev/kvm and a TAP the user owns (banger makes
// TAPs owned by the user), so a user who can open /dev/kvm runs it as themselves.
import { accessSync, constants, existsSync } from 'node:fs';

/**
 * auto: through sudo only when /dev/kvm exists but this user cannot open it read/write (no
 * /dev/kvm at all: sudo would not help, and the driver reports KVM missing); never: as the
 * user; always: through sudo (root launches directly either way).
 */
export function firecrackerViaSudo(
  setting: 'auto' | 'always' | 'never',
  isRoot: boolean,
  kvmPath = '/dev/kvm',
): boolean {
  if (isRoot || setting === 'never') return false;
  if (setting === 'always') return true;
  if (!existsSync(kvmPath)) return false;
  try {
    accessSync(kvmPath, constants.R_OK | constants.W_OK);
    return false;
  } catch {
    return true;
  }
}
