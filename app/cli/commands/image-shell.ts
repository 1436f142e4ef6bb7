// banger image shell IMAGE [--save-as NEW] [-- CMD...]
import type { Command } from '../context.js';
import { flagInt, flagStr, needPositional } from '../args.js';
import { attachConsole } from '../console.js';
import { imageShell } from '../image-shell.js';
import { clientSshArgv } from '../ssh.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export const imageShellCommands: Command[] = [
  {
    path: ['image', 'shell'],
    usage: 'banger image shell IMAGE [--save-as NEW] [--kernel K] [--backend B] [--memory MiB] [-- CMD...]',
    summary: 'a shell in a throwaway VM of IMAGE; on exit discard it, or keep its disk as image NEW',
    flags: { 'save-as': { value: true }, kernel: { value: true }, backend: { value: true }, memory: { value: true } },
    async run(ctx, a) {
      const [image] = needPositional(a, 1, this.usage);
      const engine = await ctx.engine();
      const { code } = await imageShell(
        engine,
        {
          image,
          saveAs: flagStr(a, 'save-as'),
          kernel: flagStr(a, 'kernel'),
          backend: flagStr(a, 'backend'),
          memoryMib: flagInt(a, 'memory'),
          command: a.rest.length ? a.rest : undefined,
        },
        {
          sshArgv: async (vm) => {
            if (!ctx.paths)
              throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'image shell needs the local banger paths');
            return clientSshArgv(engine, ctx.paths, vm);
          },
          interactive: (argv) => ctx.interactive(argv),
          console: ctx.isTTY ? (vm) => attachConsole(ctx, engine, vm) : null,
          log: (line) => ctx.err(line),
        },
      );
      return code;
    },
  },
];
