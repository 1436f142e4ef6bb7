// Shared builders for tests: a whole VM record (each test overrides only what it is about) and
// a CLI context around a stub engine that records what it printed and what it ran.
import type { EngineApi, VmRecord } from '../../app/contract/api.js';
import type { CliContext } from '../../app/cli/context.js';

/** A complete VmRecord: a created firecracker VM named dev, with `over` on top. */
export function vmRecord(over: Partial<VmRecord> = {}): VmRecord {
  const now = new Date().toISOString();
  return {
    id: 'a1b2c3d4e5f6',
    name: 'dev',
    backend: 'firecracker',
    image: 'base',
    kernel: 'k',
    vcpus: 1,
    memoryMib: 256,
    diskBytes: 1 << 30,
    bootArgs: '',
    mac: '06:00:ac:1e:00:05',
    ip: null,
    state: 'created',
    pid: null,
    socketPath: null,
    tap: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    stoppedAt: null,
    lastError: null,
    exitCode: null,
    exitSignal: null,
    ...over,
  };
}

export type TestCliContext = CliContext & { errs: string[]; outs: string[] };

/** A CLI context over `engine`: out/err lines collected, interactive argvs pushed to `ran`. */
export function cliContext(
  engine: Partial<EngineApi>,
  ran: string[][] = [],
  more: Partial<CliContext> = {},
): TestCliContext {
  const errs: string[] = [];
  const outs: string[] = [];
  return {
    engine: async () => engine as EngineApi,
    out: (t) => outs.push(t),
    err: (t) => errs.push(t),
    interactive: async (argv) => {
      ran.push(argv);
      return 0;
    },
    zone: 'vm',
    isTTY: false,
    stdin: process.stdin,
    ...more,
    errs,
    outs,
  };
}
