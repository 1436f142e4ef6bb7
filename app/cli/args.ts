// A small, strict argv parser: every command declares its flags; anything else is a usage
// error with a clear message, never silently ignored.
import { BangerError, ErrorCodes } from '../base/errors.js';

export interface FlagSpec {
  /** Takes a value (--image NAME) or is a switch (--force). */
  value?: boolean;
  short?: string;
  repeat?: boolean;
}

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | boolean | string[]>;
  /** Everything after a bare "--" (vm ssh NAME -- CMD...). */
  rest: string[];
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, usage: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: {}, rest: [] };
  const byShort = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([k, s]) => [s.short!, k]),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq > 0 ? a.slice(eq + 1) : undefined;
    } else if (/^-[a-zA-Z]$/.test(a)) {
      name = byShort.get(a.slice(1));
      if (!name) throw new BangerError(ErrorCodes.USAGE, `unknown option ${a}\nusage: ${usage}`);
    } else {
      out.positional.push(a);
      continue;
    }
    const s = spec[name];
    if (!s) throw new BangerError(ErrorCodes.USAGE, `unknown option --${name}\nusage: ${usage}`);
    let v: string | boolean = true;
    if (s.value) {
      v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) {
        throw new BangerError(ErrorCodes.USAGE, `option --${name} needs a value\nusage: ${usage}`);
      }
    } else if (inline !== undefined) {
      throw new BangerError(ErrorCodes.USAGE, `option --${name} takes no value\nusage: ${usage}`);
    }
    if (s.repeat) out.flags[name] = [...((out.flags[name] as string[]) ?? []), String(v)];
    else out.flags[name] = v;
  }
  return out;
}

export function flagStr(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function flagBool(a: ParsedArgs, name: string): boolean {
  return a.flags[name] === true;
}

export function flagInt(a: ParsedArgs, name: string): number | undefined {
  const v = flagStr(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  // Leave range checks to the engine's validation; only reject non-numbers here.
  if (!/^-?\d+$/.test(v.trim()) || !Number.isFinite(n)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `option --${name} needs a whole number, got "${v}"`);
  }
  return n;
}

export function needPositional(a: ParsedArgs, count: number, usage: string): string[] {
  if (a.positional.length !== count) {
    throw new BangerError(
      ErrorCodes.USAGE,
      `${a.positional.length < count ? 'missing' : 'too many'} arguments\nusage: ${usage}`,
    );
  }
  return a.positional;
}
