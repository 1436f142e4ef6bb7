// Which test files run where. A file that shares host state says so in a line of its own:
// `// test-run: alone (why)` runs once the rest is done, with nothing beside it;
// `// test-run: group NAME [NAME...] (why)` never runs beside another file of any of its groups
// (other files may): real-guest files are in one of two lanes, group `guest` or `guest-b`, so at
// most two TCG guests run at once, one per core; the guests' runs are mostly waiting (boots, ssh),
// and one lane alone made them the suite's critical path. The others go to the workers longest
// first, by how long each took last time (node_modules/.cache), else by their size.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TestFile {
  name: string;
  file: string;
  alone: boolean;
  /** Files sharing a group never run at the same time. */
  groups: string[];
}

const ALONE = /^\/\/ test-run: alone\b/m;
const GROUP = /^\/\/ test-run: group ([\w-]+(?: [\w-]+)*)/m;

const timesFile = (root: string) => join(root, 'node_modules', '.cache', 'banger-test-times.json');

export function readTimes(root: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(timesFile(root), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

export function writeTimes(root: string, times: Record<string, number>): void {
  const f = timesFile(root);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, JSON.stringify({ ...readTimes(root), ...times }, null, 1) + '\n');
}

export function classify(suites: { name: string; file: string }[]): TestFile[] {
  return suites.map((s) => {
    const text = readFileSync(s.file, 'utf8');
    return { ...s, alone: ALONE.test(text), groups: GROUP.exec(text)?.[1].split(' ') ?? [] };
  });
}

/** Longest first (what took long last time; unknown files by size, ~1 s per 4 KB). */
export function longestFirst(files: TestFile[], times: Record<string, number>): TestFile[] {
  const guess = (f: TestFile) => times[f.name] ?? statSync(f.file).size / 4;
  return [...files].sort((a, b) => guess(b) - guess(a));
}
