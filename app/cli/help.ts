// Help text, generated from the command tree: the program's overview (one line per command
// or group, and a few examples), a group's verbs, and a verb's usage, flags and examples.
import type { Command, Help, Option } from 'commander';
import { defaultsFor, examples, pathOf, usageLine } from './program.js';

const TOP = [
  ['banger', 'open the TUI (attaches to an engine, else embeds one)'],
  ['banger --detach', 'start the engine in the background'],
  ['banger COMMAND ...', 'run one command (starts an engine if none runs)'],
  ['banger COMMAND --help', 'its verbs, or its usage, flags and examples'],
];

/** A few first steps, in the order a newcomer takes them (see README's tour). */
const EXAMPLES = [
  ['banger doctor', 'what this host offers, and what to fix'],
  ['banger vm create web --start', 'create a VM and boot it'],
  ['banger vm ssh web', 'a root shell in it'],
  ['banger setup ssh --apply', 'then plain "ssh web.vm" works (with dns setup)'],
  ['banger vm ls', 'list VMs (--json: stable records)'],
  ['banger vm rm web --force', 'stop it and delete it'],
];

const FOOTER = [
  'Exit status: 0 ok, 1 your input (message ends in [E_CODE]), 2 host or engine.',
  'Docs: README.md and docs/ (docs/cli.md: every verb, JSON shapes, completion).',
];

/** Where a top-level verb is listed in the overview: groups first, then these. */
const ORDER = ['vm', 'image', 'kernel', 'dns', 'engine', 'setup', 'status', 'doctor', 'completion'];

function visible(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
}

const hasAction = (cmd: Command) => !!(cmd as unknown as { _actionHandler: unknown })._actionHandler;

function summary(cmd: Command): string {
  return cmd.summary() || cmd.description();
}

function table(rows: string[][]): string[] {
  const w = Math.max(...rows.map(([a]) => a!.length)) + 3;
  return rows.map(([a, b]) => `  ${a!.padEnd(w)}${b ?? ''}`.trimEnd());
}

/** One line per command or group (Incus and Multipass do the same); details are one --help away. */
function rootHelp(root: Command): string {
  const rank = (c: Command) => (ORDER.indexOf(c.name()) + ORDER.length + 1) % (ORDER.length + 1);
  const cmds = [...visible(root)].sort((a, b) => rank(a) - rank(b));
  return [
    root.description(),
    '',
    'usage:',
    ...table(TOP),
    '',
    'commands:',
    ...table(cmds.map((c) => [c.name(), summary(c)])),
    '',
    'examples:',
    ...table(EXAMPLES),
    '',
    ...FOOTER,
  ].join('\n');
}

function groupHelp(cmd: Command): string {
  const kids = visible(cmd);
  const w = Math.max(...kids.map((c) => c.name().length)) + 3;
  return [
    `usage: banger ${pathOf(cmd)} VERB [...]`,
    '',
    cmd.description(),
    '',
    'verbs:',
    ...kids.map((c) => `  ${c.name().padEnd(w)}${summary(c)}`),
    '',
    `see banger ${pathOf(cmd)} VERB --help`,
  ].join('\n');
}

function optionTerm(o: Option): string {
  return [o.short, o.long].filter(Boolean).join(', ') + (o.required || o.optional ? ` ${metavar(o)}` : '');
}

function metavar(o: Option): string {
  return o.flags.match(/[<[]([^>\]]+)[>\]]/)?.[1] ?? 'VALUE';
}

function leafHelp(cmd: Command, helper: Help): string {
  const opts = helper.visibleOptions(cmd);
  const terms = opts.map(optionTerm);
  const w = Math.max(...terms.map((t) => t.length)) + 3;
  const args = cmd.registeredArguments.filter((a) => a.description);
  const aw = Math.max(0, ...args.map((a) => a.name().length)) + 3;
  const lines = [`usage: ${usageLine(cmd)}`, '', cmd.description(), ''];
  if (args.length) lines.push('arguments:', ...args.map((a) => `  ${a.name().padEnd(aw)}${a.description}`), '');
  lines.push('options:', ...opts.map((o, i) => `  ${terms[i]!.padEnd(w)}${o.description}`), '');
  const defaults = defaultsFor(cmd);
  if (defaults.length) lines.push(...defaults, '');
  const ex = examples(cmd);
  if (ex.length) lines.push(ex.length > 1 ? 'examples:' : 'example:', ...ex.map((e) => `  ${e}`), '');
  return lines.join('\n').trimEnd();
}

export function formatHelp(cmd: Command, helper: Help): string {
  if (!cmd.parent) return rootHelp(cmd) + '\n';
  return (visible(cmd).length && !hasAction(cmd) ? groupHelp(cmd) : leafHelp(cmd, helper)) + '\n';
}
