// Help text, generated from the command tree: the program's overview (every verb with its
// usage line and summary), a group's verbs, and a verb's usage, flags and examples.
import type { Command, Help, Option } from 'commander';
import { examples, pathOf, usageLine } from './program.js';

const TOP = [
  ['banger', 'open the TUI (attaches to a running engine, else embeds one)'],
  ['banger --detach', 'start the engine in the background (VMs, consoles and DNS outlive the TUI)'],
  ['banger COMMAND [...]', 'run one command against the engine (starts one in the background if none runs)'],
  ['banger COMMAND --help', "a command's usage, flags and examples (also: banger help COMMAND)"],
  ['banger --help | --version', ''],
];

const FOOTER = [
  'Every list/show verb takes --json (stable records; see README). Exit status: 0 ok, 1 user error, 2 host/engine failure.',
  'State lives under $XDG_STATE_HOME/banger (override: BANGER_STATE_DIR); the control socket under $XDG_RUNTIME_DIR/banger/<state dir hash> (override: BANGER_RUNTIME_DIR).',
  'Shell completion: banger completion bash|zsh|fish (see README).',
];

/** Where a top-level verb is listed in the overview. */
const SECTION: Record<string, string> = { status: 'engine', doctor: 'engine', completion: 'shell', setup: 'host' };

function visible(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
}

const hasAction = (cmd: Command) => !!(cmd as unknown as { _actionHandler: unknown })._actionHandler;

function leaves(cmd: Command): Command[] {
  const kids = visible(cmd);
  return [...(hasAction(cmd) || !kids.length ? [cmd] : []), ...kids.flatMap(leaves)];
}

function summary(cmd: Command): string {
  return cmd.summary() || cmd.description();
}

function rootHelp(root: Command): string {
  const sections = new Map<string, Command[]>();
  for (const c of visible(root)) {
    const s = SECTION[c.name()] ?? c.name();
    sections.set(s, [...(sections.get(s) ?? []), ...leaves(c)]);
  }
  const w = Math.max(...TOP.map(([a]) => a.length)) + 3;
  const lines = [root.description(), '', 'usage:', ...TOP.map(([a, b]) => `  ${a.padEnd(w)}${b}`.trimEnd()), ''];
  for (const [s, cmds] of sections) {
    lines.push(`${s}:`);
    for (const c of cmds) lines.push(`  ${usageLine(c)}`, `      ${summary(c)}`);
    lines.push('');
  }
  return [...lines, ...FOOTER].join('\n');
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
  const ex = examples(cmd);
  if (ex.length) lines.push(ex.length > 1 ? 'examples:' : 'example:', ...ex.map((e) => `  ${e}`), '');
  return lines.join('\n').trimEnd();
}

export function formatHelp(cmd: Command, helper: Help): string {
  if (!cmd.parent) return rootHelp(cmd) + '\n';
  return (visible(cmd).length && !hasAction(cmd) ? groupHelp(cmd) : leafHelp(cmd, helper)) + '\n';
}
