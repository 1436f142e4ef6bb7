// The parser's machinery around commander: a Command whose usage errors are BangerErrors
// ([E_USAGE], exit 1) instead of printed text and process.exit, option helpers that keep the
// old parser's strictness (a value never starts with --, numbers are whole), and what shell
// completion needs to know about each argument and option (kept beside commander's own tree).
import { Argument as RawArgument, Command as BaseCommand, Option as RawOption, type HelpContext } from 'commander';
// Types only: extra-typings' classes are commander's own at run time, so commander alone loads.
import type { Argument, Command, Option } from '@commander-js/extra-typings';
import { BangerError, ErrorCodes } from '../base/errors.js';
import type { CliContext } from './context.js';

export type Cmd = Command;

export const JSON_HELP = 'print stable JSON records instead of a table (docs/cli.md)';

/** What the actions need: the context (absent when only completing) and where the code goes. */
export interface Runtime {
  ctx(): CliContext;
  run(p: Promise<number | void>): Promise<void>;
  /** Where help goes (stdout). */
  write(text: string): void;
}

/** A verb under a group: its usage line (after the path), one-line description and examples. */
export function verb(parent: Cmd, name: string, usage: string, description: string, ...ex: string[]): Cmd {
  return withExamples(parent.command(name).usage(usage).description(description), ...ex);
}

/** What completion offers for an argument or option value. */
export type ValueKind =
  | 'vm'
  | 'vm:startable'
  | 'vm:running'
  | 'vm:paused'
  | 'vm:live'
  | 'image'
  | 'kernel'
  | 'backend'
  | 'image-source'
  | 'image-ref'
  | 'shell'
  | 'file'
  /** Host directories only (vm create --mount HOSTDIR...). */
  | 'dir'
  /** The guest directories of the VM named by the verb's first argument (vm mount rm NAME GUESTDIR). */
  | 'vm-mount'
  /** The published ports of the VM named by the verb's first argument (vm port rm NAME SPEC). */
  | 'vm-port'
  | 'none';

/** Completion hints and examples, per commander object (one tree; this only annotates it). */
const kinds = new WeakMap<object, ValueKind>();
const examplesOf = new WeakMap<object, string[]>();

export function kindOf(o: object): ValueKind {
  return kinds.get(o) ?? 'none';
}
export function examples(cmd: object): string[] {
  return examplesOf.get(cmd) ?? [];
}
export function withExamples<C extends object>(cmd: C, ...lines: string[]): C {
  examplesOf.set(cmd, lines);
  return cmd;
}

/** Lines for a verb's help that depend on this host's settings (read only when help is shown). */
const defaultsOf = new WeakMap<object, () => string[]>();
export function withDefaults<C extends object>(cmd: C, lines: () => string[]): C {
  defaultsOf.set(cmd, lines);
  return cmd;
}
export function defaultsFor(cmd: object): string[] {
  return defaultsOf.get(cmd)?.() ?? [];
}

/** The full command path without the program name: "vm stop". */
export function pathOf(cmd: BaseCommand): string {
  const names: string[] = [];
  for (let c: BaseCommand | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function usageLine(cmd: BaseCommand): string {
  const path = pathOf(cmd);
  return `banger${path ? ` ${path}` : ''} ${cmd.usage()}`.trimEnd();
}

/** A positional argument with a completion kind: arg('<NAME>', 'vm', 'the VM'). */
export function arg<U extends string>(usage: U, kind: ValueKind, description = '') {
  const a = new RawArgument(usage, description) as unknown as Argument<U>;
  kinds.set(a, kind);
  return a;
}

function flagName(flags: string): string {
  return flags.match(/--[a-z-]+/)?.[0] ?? flags;
}

/** An option that takes a value; a following "--flag" is a missing value, not the value. */
export function valued<F extends string>(flags: F, description: string, kind: ValueKind = 'none') {
  const name = flagName(flags);
  const o = (new RawOption(flags, description) as unknown as Option<F>).argParser((v: string) => {
    if (v.startsWith('--')) throw new BangerError(ErrorCodes.USAGE, `option ${name} needs a value`);
    return v;
  });
  kinds.set(o, kind);
  return o;
}

/**
 * A flag without a value that excludes others (commander checks it at parse time, completion
 * stops offering them once it is used): flag('-f, --force', '...', 'save').
 */
export function flag<F extends string>(flags: F, description: string, ...excludes: string[]) {
  const o = new RawOption(flags, description) as unknown as Option<F>;
  return excludes.length ? o.conflicts(excludes) : o;
}

/** Options that may be given more than once: completion offers them again after a use. */
const repeatedOpts = new WeakSet<object>();
export function isRepeated(o: object): boolean {
  return repeatedOpts.has(o);
}

/**
 * An option given once per value (--mount A --mount B): the values collect in order into an
 * array (undefined when never given); a following "--flag" is a missing value, as for valued().
 */
export function repeated<F extends string>(flags: F, description: string, kind: ValueKind = 'none') {
  const name = flagName(flags);
  const o = (new RawOption(flags, description) as unknown as Option<F>).argParser(
    (v: string, prev: string[] | undefined): string[] => {
      if (v.startsWith('--')) throw new BangerError(ErrorCodes.USAGE, `option ${name} needs a value`);
      return [...(prev ?? []), v];
    },
  );
  kinds.set(o, kind);
  repeatedOpts.add(o);
  return o;
}

/** An option that takes a whole number (range checks stay with the engine or the verb). */
export function whole<F extends string>(flags: F, description: string) {
  const name = flagName(flags);
  return (new RawOption(flags, description) as unknown as Option<F>).argParser((v: string) => {
    if (!/^-?\d+$/.test(v.trim()) || !Number.isFinite(Number(v))) {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `option ${name} needs a whole number, got "${v}"`);
    }
    return Number(v);
  });
}

/** The verbs under a group, for "needs a verb" and unknown-verb messages. */
function verbList(cmd: BaseCommand): string {
  return cmd.commands
    .filter((c) => !(c as unknown as { _hidden: boolean })._hidden)
    .map((c) => pathOf(c))
    .join(', ');
}

/** commander's messages, reworded to the CLI's one-line style with the verb's usage. */
function usageMessage(cmd: BaseCommand, code: string, message: string): string {
  const usage = `\nusage: ${usageLine(cmd)}`;
  const text = message.replace(/^error: /, '').replace(/'([^']*)'/g, '$1');
  switch (code) {
    case 'commander.unknownCommand': {
      const path = pathOf(cmd);
      const guess = text.match(/Did you mean (\S+)\?/)?.[1];
      const hint = guess ? ` (did you mean ${[path, guess].filter(Boolean).join(' ')}?)` : '';
      const more = cmd.parent ? `\nverbs: ${verbList(cmd)}` : '\nsee banger --help';
      return `unknown command "${[path, cmd.args[0] ?? ''].filter(Boolean).join(' ')}"${hint}${more}`;
    }
    case 'commander.invalidArgument': {
      const m = text.match(/value (.*) is invalid for argument (\S+)\. Allowed choices are (.*)\.$/);
      return m ? `${m[2]} must be one of ${m[3]}, got "${m[1]}"${usage}` : `${text}${usage}`;
    }
    case 'commander.missingArgument':
      return `missing arguments${usage}`;
    case 'commander.excessArguments':
      return `too many arguments${usage}`;
    case 'commander.optionMissingArgument':
      return `option ${text.match(/--[a-z-]+/)?.[0] ?? ''} needs a value${usage}`;
    default:
      return `${text}${usage}`;
  }
}

/**
 * commander's Command with usage errors thrown as BangerError. Subcommands made by
 * .command() are of this class too (createCommand), so the whole tree behaves alike.
 */
export class BangerCommand extends BaseCommand {
  override createCommand(name?: string): BangerCommand {
    return new BangerCommand(name);
  }

  override error(message: string, opts?: { code?: string; exitCode?: number }): never {
    throw new BangerError(ErrorCodes.USAGE, usageMessage(this, opts?.code ?? 'commander.error', message));
  }

  /**
   * `banger vm exec --help`: an operand that names no verb of this group is an unknown command,
   * help or not (commander prints the group's help and exits 0 otherwise).
   */
  _outputHelpIfRequested(args: string[]): void {
    const self = this as unknown as {
      _actionHandler: unknown;
      _findCommand(name: string): BaseCommand | undefined;
      unknownCommand(): never;
    };
    const first = this.args[0];
    if (this.commands.length && !self._actionHandler && first && !first.startsWith('-') && !self._findCommand(first))
      self.unknownCommand();
    (BaseCommand.prototype as unknown as { _outputHelpIfRequested(a: string[]): void })._outputHelpIfRequested.call(
      this,
      args,
    );
  }

  /** A group called without a verb ("banger vm"): a usage error naming the verbs, not a page of help. */
  override help(opts?: HelpContext | ((str: string) => string)): never {
    if (opts && typeof opts === 'object' && opts.error) {
      throw new BangerError(
        ErrorCodes.USAGE,
        `"banger ${pathOf(this)}" needs a verb: ${verbList(this)}\nsee banger ${pathOf(this)} --help`,
      );
    }
    return super.help(opts as HelpContext);
  }
}
