// banger setup sudoers: what a normal user needs once so the engine can make its host changes;
// banger setup ssh: the ssh config that makes `ssh NAME.vm` work.
import type { CliContext } from '../context.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export async function setupSudoers(
  ctx: CliContext,
  o: { user?: string; apply?: boolean; remove?: boolean; firecracker?: string; jailer?: string; jailBase?: string },
) {
  if (!ctx.sudoersSetup) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'setup sudoers is not available here');
  if (o.apply && o.remove) throw new BangerError(ErrorCodes.USAGE, '--apply and --remove exclude each other');
  const mode = o.apply ? 'apply' : o.remove ? 'remove' : 'print';
  ctx.out(await ctx.sudoersSetup(mode, o.user, { firecracker: o.firecracker, jailer: o.jailer, jailBase: o.jailBase }));
}

/** banger setup ssh: the ssh config for `ssh NAME.vm` (no root needed). */
export async function setupSsh(ctx: CliContext, o: { apply?: boolean; remove?: boolean }) {
  if (!ctx.sshSetup) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'setup ssh is not available here');
  if (o.apply && o.remove) throw new BangerError(ErrorCodes.USAGE, '--apply and --remove exclude each other');
  ctx.out(await ctx.sshSetup(o.apply ? 'apply' : o.remove ? 'remove' : 'print'));
}
