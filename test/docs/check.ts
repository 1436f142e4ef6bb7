// The docs checker: reads markdown text (README.md, docs/*.md) and reports what no longer
// matches the code: a `banger ...` command or flag the command tree lacks, a config key the
// code does not accept (or one it accepts that configuration.md lacks), a BANGER_* variable
// the code never reads, an E_* code that does not exist, a repository path (`app/...`) that
// is gone, and a relative link (or #anchor) that does not resolve. Pure over {path: text}, so a test can plant stale text in memory.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildTree } from '../../app/cli/tree.js';
import { DEFAULT_CONFIG, ENV_KEYS } from '../../app/engine/config.js';
import { ErrorCodes } from '../../app/base/errors.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** README.md and every page under docs/, as {path relative to the repo: text}. */
export function readDocs(): Map<string, string> {
  const files = new Map<string, string>();
  files.set('README.md', readFileSync(join(ROOT, 'README.md'), 'utf8'));
  for (const f of readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort())
    files.set(`docs/${f}`, readFileSync(join(ROOT, 'docs', f), 'utf8'));
  return files;
}

/** Code the docs show: fenced blocks and inline spans, one string per line of code. */
export function codeOf(text: string): string[] {
  const out: string[] = [];
  const fenced = /^```[^\n]*\n([\s\S]*?)^```/gm;
  for (const m of text.matchAll(fenced)) out.push(...m[1]!.split('\n'));
  const prose = text.replace(fenced, '');
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) out.push(m[1]!);
  return out;
}

const tree = buildTree({ ctx: () => null as never, run: async () => {}, write: () => {} }) as unknown as Command;
const ROOT_FLAGS = new Set(['--detach', '--help', '-h', '--version', '-V']);

function flagsOf(cmd: Command): Set<string> {
  const s = new Set(['--help', '-h']);
  for (const o of cmd.options) for (const f of [o.long, o.short]) if (f) s.add(f);
  return s;
}

const hasAction = (c: Command) => !!(c as unknown as { _actionHandler: unknown })._actionHandler;

/** Problems with one `banger ...` invocation (the words after "banger"). */
export function checkInvocation(words: string[]): string | null {
  if (words[0] === 'help') return checkInvocation([...words.slice(1).filter((w) => /^[a-z]/.test(w)), '--help']);
  let cmd = tree;
  let i = 0;
  for (; i < words.length && /^[a-z][a-z0-9-]*$/.test(words[i]!); i++) {
    const next = cmd.commands.find((c) => c.name() === words[i]);
    if (next) {
      cmd = next;
      continue;
    }
    // A group takes a verb; a verb takes arguments (NAME, web, ...).
    if (cmd === tree || !hasAction(cmd)) return `no command "${[...path(cmd), words[i]].join(' ')}"`;
    break;
  }
  const allowed = cmd === tree ? ROOT_FLAGS : flagsOf(cmd);
  for (const word of words.slice(i)) {
    const w = word.replace(/^[[(]+|[\])]+$/g, '');
    if (w === '--') break; // the rest goes to the guest
    const flag = /^(--?[a-zA-Z][a-z-]*)(=.*)?$/.exec(w)?.[1];
    if (flag && !allowed.has(flag)) return `"banger ${path(cmd).join(' ')}" has no flag ${flag}`;
  }
  return null;
}

function path(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

/** Every `banger ...` in the code of a page: the words up to a shell separator or a comment. */
export function invocations(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of codeOf(text)) {
    // A shell comment, or a column gap in a usage table, ends the command.
    const line = raw.replace(/\s#.*$/, '').replace(/(\S) {2,}\S.*$/, '$1');
    for (const m of line.matchAll(/(?:^|[\s(`$/])banger((?: +[^\s|;&#)>`]+)*)/g)) {
      out.push(m[1]!.trim().split(/ +/).filter(Boolean));
    }
  }
  return out;
}

const KEYS = new Set(Object.keys(DEFAULT_CONFIG));
const ENV_READ = new Set(
  [...(readdirSync(join(ROOT, 'app'), { recursive: true }) as string[])]
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => readFileSync(join(ROOT, 'app', f), 'utf8').match(/BANGER_[A-Z_]+/g) ?? [])
    .concat(readFileSync(join(ROOT, 'bin', 'banger'), 'utf8').match(/BANGER_[A-Z_]+/g) ?? []),
);
/** Variables the tests and benchmarks read (documented in CONTRIBUTING.md). */
const TEST_ENV = ['BANGER_TEST_CACHE_DIR', 'BANGER_SLOW_TESTS', 'BANGER_TEST_JOBS'];

/**
 * Config keys a page names: `key` (`ENV`), config key `key`, `key` setting, `key` `value`,
 * the JSON blocks of a page about config, and (configuration.md) the table's first column.
 */
export function configMentions(text: string, file = ''): string[] {
  const keys: string[] = [];
  if (file === 'docs/configuration.md') for (const m of text.matchAll(/^\| `([a-z][A-Za-z]+)` \|/gm)) keys.push(m[1]!);
  for (const m of text.matchAll(/`([a-z][A-Za-z]+)` \(`[A-Z_]+`/g)) keys.push(m[1]!);
  for (const m of text.matchAll(/config(?:\.json)? key `([A-Za-z]+)`/g)) keys.push(m[1]!);
  for (const m of text.matchAll(/`([a-z][A-Za-z]+)` setting/g)) keys.push(m[1]!);
  for (const m of text.matchAll(/`([a-z]+[A-Z][A-Za-z]*)` `[a-z0-9]+`/g)) keys.push(m[1]!);
  for (const m of text.matchAll(/^```json\n([\s\S]*?)^```/gm)) {
    if (/config/i.test(text.slice(Math.max(0, m.index! - 300), m.index))) {
      for (const k of m[1]!.matchAll(/"([A-Za-z]+)":/g)) keys.push(k[1]!);
    }
  }
  return keys;
}

/** GitHub's anchor for a heading. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(text: string): Set<string> {
  const s = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    s.add(n ? `${base}-${n}` : base);
  }
  return s;
}

function linkProblems(file: string, text: string, docs: Map<string, string>): string[] {
  const out: string[] = [];
  const prose = text.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
    const [p, anchor] = target.split('#') as [string, string | undefined];
    const abs = p ? resolve(ROOT, dirname(file), p) : resolve(ROOT, file);
    const rel = relative(ROOT, abs);
    const body = docs.get(rel) ?? (existsSync(abs) ? readFileSync(abs, 'utf8') : null);
    if (body === null || rel.startsWith('..')) out.push(`${file}: link to ${target}: no such file`);
    else if (anchor && rel.endsWith('.md') && !anchors(body).has(anchor))
      out.push(`${file}: link to ${target}: no heading #${anchor}`);
  }
  return out;
}

/** Everything stale in these pages; [] when the docs match the code. */
export function problems(docs: Map<string, string>): string[] {
  const out: string[] = [];
  const codes = new Set<string>(Object.values(ErrorCodes));
  for (const [file, text] of docs) {
    for (const words of invocations(text)) {
      const p = checkInvocation(words);
      if (p) out.push(`${file}: banger ${words.join(' ')}: ${p}`);
    }
    for (const k of configMentions(text, file)) if (!KEYS.has(k)) out.push(`${file}: no config key "${k}"`);
    for (const m of text.matchAll(/`([a-z][A-Za-z]+)` \(`([A-Z_]+)`/g)) {
      if (KEYS.has(m[1]!) && ENV_KEYS[m[2]!] !== m[1] && m[2]!.startsWith('BANGER_'))
        out.push(`${file}: ${m[2]} does not set ${m[1]}`);
    }
    for (const v of text.match(/BANGER_[A-Z_]*[A-Z]/g) ?? [])
      if (!ENV_READ.has(v) && !TEST_ENV.includes(v)) out.push(`${file}: the code reads no ${v}`);
    for (const c of text.match(/\bE_[A-Z_]*[A-Z]\b/g) ?? []) if (!codes.has(c)) out.push(`${file}: no error code ${c}`);
    out.push(...linkProblems(file, text, docs));
    for (const p of codeOf(text).flatMap(
      (c) => c.match(/(?<![\w./-])(?:app|test|scripts|bench|native|assets)\/[\w./-]*\w/g) ?? [],
    ))
      if (!existsSync(join(ROOT, p.replace(/\.js$/, '.ts'))) && !existsSync(join(ROOT, p)))
        out.push(`${file}: no file or dir ${p} in the repository`);
  }
  const config = docs.get('docs/configuration.md') ?? '';
  for (const k of KEYS) if (!config.includes(`| \`${k}\` |`)) out.push(`docs/configuration.md: key ${k} missing`);
  return out;
}
