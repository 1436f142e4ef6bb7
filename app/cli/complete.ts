// `banger __complete WORDS... CUR`: what TAB offers, as Cobra's __complete does. One candidate
// a line ("value<TAB>description"), then ":DIRECTIVE" (4: do not fall back to file names).
// Verbs and flags come from the command tree; VM, image, kernel and backend names from a
// running engine only (completion never starts one), given up on after 200 ms. Directive 16
// (Cobra's FilterDirs) asks the shell for directory names only (vm create --mount HOSTDIR).
import { IMAGE_TRANSPORTS } from '../contract/image-ref.js';
import type { Command, Option } from 'commander';
import { BACKENDS, IMAGE_SOURCES, type VmRecord } from '../contract/api.js';
import { buildTree } from './tree.js';
import { isRepeated, kindOf, type ValueKind } from './program.js';

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  candidates: Candidate[];
  /** Cobra's ShellCompDirective bits; 4 = no file-name fallback. */
  directive: number;
}

/** The engine's answers completion may use; each may be slow or fail (then: no candidates). */
export interface Source {
  vms(): Promise<Pick<VmRecord, 'name' | 'state' | 'mounts' | 'ports'>[]>;
  images(): Promise<string[]>;
  kernels(): Promise<string[]>;
  backends(): Promise<string[]>;
}

export const NO_FILES = 4;
export const DEFAULT = 0;
/** The shell offers directory names only. */
export const DIRS = 16;

/** Flags handled before the tree (app/main.ts), offered at the top level. */
const ROOT_FLAGS: Candidate[] = [
  { value: '--detach', description: 'start the engine in the background' },
  { value: '--version', description: 'print the version' },
];

/** Which VM states each kind offers. */
const STATES: Record<string, Set<string> | null> = {
  vm: null,
  'vm:startable': new Set(['created', 'stopped', 'error']),
  'vm:running': new Set(['running', 'starting']),
  'vm:paused': new Set(['paused']),
  'vm:live': new Set(['running', 'starting', 'paused']),
};

function visible(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
}

/** A verb that also has verbs under it (vm snapshot NAME, vm snapshot rm). */
export function hasAction(cmd: Command): boolean {
  return !!(cmd as unknown as { _actionHandler: unknown })._actionHandler;
}

function options(cmd: Command): Option[] {
  const help = (cmd as unknown as { _getHelpOption(): Option | null })._getHelpOption();
  return help ? [...cmd.options, help] : [...cmd.options];
}

function findOption(cmd: Command, word: string): Option | undefined {
  return options(cmd).find((o) => o.long === word || o.short === word);
}

const takesValue = (o: Option) => o.required || o.optional;

interface Position {
  cmd: Command;
  positional: number;
  used: Set<Option>;
  /** The positional words so far (the VM name that vm mount rm NAME GUESTDIR lists from). */
  args: string[];
  /** An option whose value is being typed (the previous word was --image). */
  valueFor?: Option;
  /** Past a bare "--": a remote command, not ours to complete. */
  afterDashes: boolean;
}

/** Walk the words before the cursor through the tree, as the parser would. */
export function locate(root: Command, done: string[]): Position {
  const p: Position = { cmd: root, positional: 0, used: new Set(), args: [], afterDashes: false };
  for (const w of done) {
    if (p.afterDashes) continue;
    if (p.valueFor) {
      p.valueFor = undefined;
      continue;
    }
    if (w === '--') p.afterDashes = true;
    else if (w.startsWith('-') && w.length > 1) {
      const eq = w.indexOf('=');
      const o = findOption(p.cmd, eq > 0 ? w.slice(0, eq) : w);
      if (o) p.used.add(o);
      if (o && takesValue(o) && eq < 0) p.valueFor = o;
    } else if (w === 'help' && !p.cmd.parent && p.positional === 0) {
      continue; // "banger help vm stop": the words after help name a verb
    } else {
      const sub = p.positional === 0 ? visible(p.cmd).find((c) => c.name() === w) : undefined;
      if (sub) p.cmd = sub;
      else {
        p.positional++;
        p.args.push(w);
      }
    }
  }
  return p;
}

/** A published port as `vm port rm` takes it: ADDR:HOSTPORT/PROTO (an IPv6 ADDR in brackets). */
function portCandidates(vm: Pick<VmRecord, 'ports'> | undefined): Candidate[] {
  return (vm?.ports ?? []).map((p) => ({
    value: `${p.addr.includes(':') ? `[${p.addr}]` : p.addr}:${p.hostPort}/${p.proto}`,
    description: `to guest port ${p.guestPort}/${p.proto}`,
  }));
}

function mountCandidates(vm: Pick<VmRecord, 'mounts'> | undefined): Candidate[] {
  return (vm?.mounts ?? []).map((m) => ({
    value: m.guestDir,
    description: `from ${m.hostDir}${m.readOnly ? ' (ro)' : ''}`,
  }));
}

async function values(
  kind: ValueKind,
  choices: readonly string[] | undefined,
  src: Source | null,
  args: readonly string[] = [],
) {
  if (choices) return { candidates: choices.map((value) => ({ value })), directive: NO_FILES };
  const names = (xs: string[]) => xs.map((value) => ({ value }));
  const vms = async (keep: (state: string) => boolean) =>
    (await src!.vms()).filter((v) => keep(v.state)).map((v) => ({ value: v.name, description: v.state }));
  let candidates: Candidate[] = [];
  switch (kind) {
    case 'file':
      return { candidates, directive: DEFAULT };
    case 'dir':
      return { candidates, directive: DIRS };
    case 'vm-mount':
    case 'vm-port': {
      // The VM the verb's first argument names: its own guest dirs or published ports.
      const vm = src && args[0] ? (await src.vms()).find((v) => v.name === args[0]) : undefined;
      candidates = kind === 'vm-mount' ? mountCandidates(vm) : portCandidates(vm);
      break;
    }
    case 'image-source':
      return { candidates: names([...IMAGE_SOURCES]), directive: NO_FILES };
    case 'image-ref':
      // The transports, and local files (ext4, tarballs, archives) from the shell.
      return { candidates: names([...IMAGE_TRANSPORTS]), directive: DEFAULT };
    case 'backend':
      candidates = names(src ? await src.backends() : [...BACKENDS]);
      break;
    case 'vm':
    case 'vm:startable':
    case 'vm:running':
    case 'vm:paused':
    case 'vm:live':
      if (src) candidates = await vms((s) => STATES[kind]?.has(s) ?? true);
      break;
    case 'image':
    case 'kernel':
      if (src) candidates = names(await (kind === 'image' ? src.images() : src.kernels()));
      break;
  }
  return { candidates, directive: NO_FILES };
}

/** Options that exclude each other (commander's .conflicts(), both ways: vm stop --force / --save). */
function conflicting(a: Option, b: Option): boolean {
  const names = (o: Option) => (o as unknown as { conflictsWith?: string[] }).conflictsWith ?? [];
  return names(a).includes(b.attributeName()) || names(b).includes(a.attributeName());
}

function flags(p: Position): Candidate[] {
  const repeatable = (o: Option) => o.variadic || isRepeated(o);
  const out = options(p.cmd)
    .filter((o) => !p.used.has(o) || repeatable(o))
    .filter((o) => ![...p.used].some((u) => u !== o && conflicting(u, o)))
    .map((o) => ({ value: o.long ?? o.short!, description: o.description }));
  return p.cmd.parent ? out : [...out, ...ROOT_FLAGS];
}

/** Candidates for the last word (CUR, maybe empty) after the words before it. */
export async function complete(words: string[], src: Source | null): Promise<Completion> {
  const root = buildTree({ ctx: () => null as never, run: async () => {}, write: () => {} }) as unknown as Command;
  const cur = words.at(-1) ?? '';
  const p = locate(root, words.slice(0, -1));
  let out: Completion;
  if (p.afterDashes) out = { candidates: [], directive: NO_FILES };
  else if (p.valueFor) out = await values(kindOf(p.valueFor), p.valueFor.argChoices, src, p.args);
  else if (/^--[^=]+=/.test(cur)) {
    const eq = cur.indexOf('=');
    const o = findOption(p.cmd, cur.slice(0, eq));
    out =
      o && takesValue(o) ? await values(kindOf(o), o.argChoices, src, p.args) : { candidates: [], directive: NO_FILES };
    out.candidates = out.candidates.map((c) => ({ ...c, value: `${cur.slice(0, eq + 1)}${c.value}` }));
  } else if (cur.startsWith('-')) out = { candidates: flags(p), directive: NO_FILES };
  else if (visible(p.cmd).length && !(p.positional === 0 && hasAction(p.cmd))) {
    out = {
      candidates: visible(p.cmd).map((c) => ({ value: c.name(), description: c.description() })),
      directive: NO_FILES,
    };
  } else {
    const args = p.cmd.registeredArguments;
    const a = args[p.positional] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
    out = a ? await values(kindOf(a), a.argChoices, src, p.args) : { candidates: [], directive: NO_FILES };
  }
  out.candidates = out.candidates.filter((c) => c.value.startsWith(cur));
  return out;
}

export function render(c: Completion): string {
  const lines = c.candidates.map((x) =>
    x.description ? `${x.value}\t${x.description.replace(/\s+/g, ' ')}` : x.value,
  );
  return [...lines, `:${c.directive}`].join('\n');
}
