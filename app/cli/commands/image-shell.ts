// banger image shell IMAGE [--save-as NEW] [-- CMD...]
import type { CliContext } from '../context.js';
import { attachConsole } from '../console.js';
import { imageShell } from '../image-shell.js';
import { clientSshArgv } from '../ssh.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export interface ImageShellOpts {
  saveAs?: string;
  kernel?: string;
  backend?: string;
  memory?: number;
}

export async function imageShellVerb(ctx: CliContext, image: string, o: ImageShellOpts, rest: string[]) {
  const engine = await ctx.engine();
  const { code } = await imageShell(
    engine,
    {
      image,
      saveAs: o.saveAs,
      kernel: o.kernel,
      backend: o.backend,
      memoryMib: o.memory,
      command: rest.length ? rest : undefined,
    },
    {
      sshArgv: async (vm) => {
        if (!ctx.paths) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'image shell needs the local banger paths');
        return clientSshArgv(engine, ctx.paths, vm);
      },
      interactive: (argv) => ctx.interactive(argv),
      console: ctx.isTTY ? (vm) => attachConsole(ctx, engine, vm) : null,
      log: (line) => ctx.err(line),
    },
  );
  return code;
}
