// banger setup sudoers: what a normal user needs once so the engine can make its host changes.
import type { Command } from '../context.js';
import { flagBool, flagStr, needPositional } from '../args.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export const setupCommands: Command[] = [
  {
    path: ['setup', 'sudoers'],
    usage: 'banger setup sudoers [--user NAME] [--apply | --remove]',
    summary:
      "print (--apply: install, --remove: uninstall) banger's privileged entry point and the sudoers drop-in naming only it",
    flags: { user: { value: true }, apply: {}, remove: {} },
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      if (!ctx.sudoersSetup) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'setup sudoers is not available here');
      if (flagBool(a, 'apply') && flagBool(a, 'remove'))
        throw new BangerError(ErrorCodes.USAGE, '--apply and --remove exclude each other');
      const mode = flagBool(a, 'apply') ? 'apply' : flagBool(a, 'remove') ? 'remove' : 'print';
      ctx.out(await ctx.sudoersSetup(mode, flagStr(a, 'user')));
    },
  },
];
