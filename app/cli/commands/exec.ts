// banger vm exec / vm cp: a command or a copy over the VM's ssh master (app/cli/exec.ts).
// banger's own failures exit 125 (Docker's convention) with the E_* code on stderr, so a
// caller can tell them from the command's exit codes, which pass through unchanged.
import type { CliContext } from '../context.js';
import { BangerError, ErrorCodes, toBangerError } from '../../base/errors.js';
import { execIn, execTarget } from '../exec.js';

export const OWN_FAILURE = 125;

async function target(ctx: CliContext, name: string) {
  if (!ctx.paths || !ctx.processes)
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'vm exec needs the local banger paths');
  const runner = await ctx.processes();
  return { t: await execTarget(await ctx.engine(), ctx.paths, runner, name), runner };
}

/** Our failure as the one stderr line runCli would print, and exit 125. */
export function ownFailure(ctx: CliContext, err: unknown): number {
  const e = toBangerError(err);
  ctx.err(`banger: ${e.message.replace(/\s*\n\s*/g, '; ')} [${e.code}]`);
  return OWN_FAILURE;
}

export async function exec(
  ctx: CliContext,
  name: string,
  words: string[],
  o: { interactive?: boolean; tty?: boolean },
): Promise<number> {
  try {
    if (!words.length) throw new BangerError(ErrorCodes.USAGE, 'no command: banger vm exec NAME -- CMD...');
    const { t, runner } = await target(ctx, name);
    return await execIn(t, runner, name, words, { stdin: !!o.interactive, tty: !!o.tty });
  } catch (err) {
    return ownFailure(ctx, err);
  }
}

export async function cp(
  ctx: CliContext,
  src: string,
  dst: string,
  o: { recursive?: boolean; json?: boolean },
): Promise<number> {
  try {
    const { parseCpArgs, copy } = await import('../cp.js');
    const plan = parseCpArgs(src, dst);
    const { t, runner } = await target(ctx, plan.vm);
    const done = await copy(t, runner, plan, { recursive: !!o.recursive });
    if (o.json) ctx.out(JSON.stringify(done, null, 2));
    return 0;
  } catch (err) {
    return ownFailure(ctx, err);
  }
}
