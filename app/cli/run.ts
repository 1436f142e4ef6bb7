// Run one CLI command: parse argv with the command tree, load the verb's code, run it.
// Exit codes: 0 ok, 1 user error (one line on stderr), 2 host or engine failure.
import type { CliContext } from './context.js';
import { buildTree } from './tree.js';
import { toBangerError } from '../base/errors.js';

/** Words after the first "--": a remote command (vm ssh NAME -- CMD...), never parsed here. */
function afterDashes(argv: string[]): string[] {
  const i = argv.indexOf('--');
  return i < 0 ? [] : argv.slice(i + 1);
}

/** `banger --help`: the overview of every verb, from the tree (the build stamps it into dist/help.txt). */
export function helpText(): string {
  let text = '';
  buildTree({ ctx: () => null as never, run: async () => {}, write: (t) => (text += t) }).outputHelp();
  return text.replace(/\n$/, '');
}

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let code = 0;
  // "banger help vm stop" is "banger vm stop --help".
  const words = argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv;
  const tree = buildTree(
    {
      ctx: () => ctx,
      async run(p) {
        const v = await p;
        code = typeof v === 'number' ? v : 0;
      },
      write: (t) => ctx.out(t.replace(/\n$/, '')),
    },
    () => afterDashes(argv),
    words[0],
  );
  try {
    await tree.parseAsync(words, { from: 'user' });
    return code;
  } catch (err) {
    const c = (err as { code?: unknown }).code;
    if (c === 'commander.helpDisplayed' || c === 'commander.help' || c === 'commander.version') return 0;
    const e = toBangerError(err);
    // One line on stderr, always: scripts can read it, people can too.
    ctx.err(`banger: ${e.message.replace(/\s*\n\s*/g, '; ')} [${e.code}]`);
    return e.isUserError ? 1 : 2;
  }
}
