// Dispatch argv to a command. Exit codes: 0 ok, 1 user error (one line on stderr), 2 host or
// engine failure.
import type { CliContext, Command } from './context.js';
import { parseArgs } from './args.js';
import { vmCommands } from './commands/vm.js';
import { snapshotCommands } from './commands/snapshots.js';
import { imageShellCommands } from './commands/image-shell.js';
import { imageCommands } from './commands/images.js';
import { statusCommands } from './commands/status.js';
import { doctorCommands } from './commands/doctor.js';
import { dnsCommands } from './commands/dns.js';
import { engineCommands } from './commands/engine.js';
import { metricsCommands } from './commands/metrics.js';
import { setupCommands } from './commands/setup.js';
import { BangerError, ErrorCodes, toBangerError } from '../base/errors.js';

export const COMMANDS: Command[] = [
  ...vmCommands,
  ...snapshotCommands,
  ...metricsCommands,
  ...imageCommands,
  ...imageShellCommands,
  ...statusCommands,
  ...doctorCommands,
  ...dnsCommands,
  ...engineCommands,
  ...setupCommands,
];

export function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  let best: Command | null = null;
  for (const c of COMMANDS) {
    if (c.path.every((p, i) => argv[i] === p) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { cmd: best, rest: argv.slice(best.path.length) } : null;
}

export function helpText(): string {
  const groups = new Map<string, Command[]>();
  for (const c of COMMANDS) {
    const g = c.path.length > 1 ? c.path[0] : 'engine';
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const lines = [
    'banger: Firecracker microVMs from your terminal, reachable as NAME.vm',
    '',
    'usage:',
    '  banger                 open the TUI (attaches to a running engine, else embeds one)',
    '  banger --detach        start the engine in the background (VMs, consoles and DNS outlive the TUI)',
    '  banger COMMAND [...]   run one command against the engine (starts one in the background if none runs)',
    '  banger engine serve    run the engine in the foreground (what --detach starts; for service managers)',
    '  banger --help | --version',
    '',
  ];
  for (const [g, cmds] of groups) {
    lines.push(`${g}:`);
    for (const c of cmds) lines.push(`  ${c.usage}`, `      ${c.summary}`);
    lines.push('');
  }
  lines.push(
    'Every list/show verb takes --json (stable records; see README). Exit status: 0 ok, 1 user error, 2 host/engine failure.',
    'State lives under $XDG_STATE_HOME/banger (override: BANGER_STATE_DIR); the control socket under $XDG_RUNTIME_DIR/banger/<state dir hash> (override: BANGER_RUNTIME_DIR).',
  );
  return lines.join('\n');
}

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  try {
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.filter((c) => c.path[0] === argv[0]);
      const hint = group.length ? `\nverbs: ${group.map((c) => c.path.join(' ')).join(', ')}` : '\nsee banger --help';
      throw new BangerError(ErrorCodes.USAGE, `unknown command "${argv.join(' ')}"${hint}`);
    }
    const { cmd, rest } = found;
    const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest; // after --: the remote command's
    if (own.includes('--help') || own.includes('-h')) {
      ctx.out(`usage: ${cmd.usage}\n  ${cmd.summary}`);
      return 0;
    }
    const args = parseArgs(rest, cmd.flags, cmd.usage);
    const code = await cmd.run(ctx, args);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    const e = toBangerError(err);
    // One line on stderr, always: scripts can read it, people can too.
    ctx.err(`banger: ${e.message.replace(/\s*\n\s*/g, '; ')} [${e.code}]`);
    return e.isUserError ? 1 : 2;
  }
}
