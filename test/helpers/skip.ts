// Honest skips: a test that cannot run on this host is registered with uvu's test.skip (so the
// summary counts it as skipped, not passed) and its reason is recorded for test/run.ts to print.
import type { Test } from 'uvu';

export interface SkipRecord {
  name: string;
  reason: string;
}

/** Every test skipped in this process, in order (test/run.ts prints them grouped by reason). */
export const skipped: SkipRecord[] = [];

type Body = Parameters<Test>[1];

/** `test` itself when `reason` is null; otherwise a test function that skips with that reason. */
export function runIf(test: Test, reason: string | null): (name: string, fn: Body) => void {
  if (reason === null) return (name, fn) => test(name, fn);
  return (name, fn) => {
    skipped.push({ name, reason });
    test.skip(name, fn);
  };
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why tests that make network namespaces, bridges and TAPs cannot run here (null: they can). */
export const NEEDS_ROOT = isRoot ? null : 'needs root (network namespaces, bridges, TAPs)';

/** Slow paths run only on request. */
export function slowReason(what: string): string | null {
  return process.env.BANGER_SLOW_TESTS === '1' ? null : `slow (${what}): set BANGER_SLOW_TESTS=1`;
}

/** Null when every tool is found on PATH (plus the sbin dirs), else which are missing. */
export function missingReason(missing: string[]): string | null {
  return missing.length ? `missing ${missing.join(', ')}` : null;
}

/** The first non-null reason. */
export function firstReason(...reasons: (string | null)[]): string | null {
  return reasons.find((r) => r !== null) ?? null;
}
