// What a host binary says about itself (`--version`, `-machine help`) depends only on that file:
// remembered per file identity (device, inode, size, mtime, ctime) in the cache dir, so doctor
// and an engine start need not run firecracker and qemu each time (the simulator alone is a node
// start). Only clean answers (exit 0) are kept: a failing binary is asked again every time, so a
// fix shows at once, and a replaced or touched binary is a new identity.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcessRunner } from './process.js';

export interface ProbeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run argv (argv[0] a path) and return its answer; never throws. */
export type Probe = (argv: string[]) => Promise<ProbeResult>;

interface Entry {
  id: string;
  stdout: string;
}

const MAX_ENTRIES = 32;

export function directProbe(runner: ProcessRunner, timeoutMs = 5000): Probe {
  return (argv) =>
    runner
      .run(argv, { reject: false, timeoutMs })
      .catch((e: Error) => ({ exitCode: -1, stdout: '', stderr: e.message }));
}

function identity(bin: string): string | null {
  try {
    const s = statSync(bin);
    return s.isFile() ? [s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs].join(':') : null;
  } catch {
    return null;
  }
}

function readEntries(file: string): Record<string, Entry> {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}

/** Atomic replace, owner-only; skipped when the cache dir does not exist yet (doctor creates nothing). */
function writeEntries(file: string, entries: Record<string, Entry>): void {
  if (!existsSync(dirname(file))) return;
  const kept = Object.fromEntries(Object.entries(entries).slice(-MAX_ENTRIES));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(kept), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    /* a cache: the next call asks the binary again */
  }
}

export function cachedProbe(runner: ProcessRunner, file: string): Probe {
  const direct = directProbe(runner);
  return async (argv) => {
    const key = argv.join('\0');
    const id = identity(argv[0]!);
    const hit = readEntries(file)[key];
    if (id && hit?.id === id && typeof hit.stdout === 'string') return { exitCode: 0, stdout: hit.stdout, stderr: '' };
    const r = await direct(argv);
    if (id && r.exitCode === 0 && identity(argv[0]!) === id) {
      const entries = readEntries(file);
      delete entries[key]; // re-inserted last: the newest survive the cap
      writeEntries(file, { ...entries, [key]: { id, stdout: r.stdout } });
    }
    return r;
  };
}
