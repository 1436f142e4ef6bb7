// banger setup sudoers: what a normal user needs once so the engine can make its host changes.
import type { CliContext } from '../context.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export async function setupSudoers(ctx: CliContext, o: { user?: string; apply?: boolean; remove?: boolean }) {
  if (!ctx.sudoersSetup) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'setup sudoers is not available here');
  if (o.apply && o.remove) throw new BangerError(ErrorCodes.USAGE, '--apply and --remove exclude each other');
  ctx.out(await ctx.sudoersSetup(o.apply ? 'apply' : o.remove ? 'remove' : 'print', o.user));
}
