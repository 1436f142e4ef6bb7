// banger vm top / vm stats through the real CLI dispatcher (argv parsing, errors, exit codes)
// with a small in-process EngineApi stub: the engine's sampler is not wired in yet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineApi, MetricsSnapshot, VmRecord, VmSample } from '../../app/contract/api.js';
import { BangerError, ErrorCodes } from '../../app/base/errors.js';
import { cliContext } from '../helpers/builders.js';
import { runCli } from '../../app/cli/run.js';
import { latestSamples, statsText, summarize, topTable } from '../../app/cli/commands/metrics.js';

const M = 1024 * 1024;
const T0 = Date.parse('2024-05-01T12:00:00Z');
const s = (vmId: string, name: string, i: number, p: Partial<VmSample> = {}): VmSample => ({
  vmId,
  name,
  at: T0 + i * 1000,
  cpuPct: 10 * i,
  rssBytes: (100 + i) * M,
  rxBytes: i * 1000,
  txBytes: i * 10,
  rxBps: 1024 * i,
  txBps: 512,
  diskBytes: 300 * M,
  ...p,
});
const SNAP: MetricsSnapshot = {
  host: [],
  vms: {
    'id-web': [s('id-web', 'web', 1), s('id-web', 'web', 2), s('id-web', 'web', 3, { cpuPct: 150.4 })],
    'id-db': [s('id-db', 'db', 1, { cpuPct: 0.25, rxBps: 0, txBps: 0 })],
    'id-gone': [],
  },
};

function stubEngine(snap: MetricsSnapshot): EngineApi {
  const vms: Record<string, Partial<VmRecord>> = {
    web: { id: 'id-web', name: 'web' },
    db: { id: 'id-db', name: 'db' },
    idle: { id: 'id-idle', name: 'idle' },
  };
  return {
    metrics: async () => snap,
    getVm: async (name: string) => {
      const vm = vms[name.toLowerCase()];
      if (!vm) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named ${name}`);
      return vm as VmRecord;
    },
  } as unknown as EngineApi;
}

async function run(argv: string[], snap = SNAP): Promise<{ code: number; out: string; err: string }> {
  const ctx = cliContext(stubEngine(snap));
  const code = await runCli(argv, ctx);
  const text = (lines: string[]) => lines.map((l) => l + '\n').join('');
  return { code, out: text(ctx.outs), err: text(ctx.errs) };
}

test('vm top --json: the latest sample of each sampled VM, busiest first', async () => {
  const r = await run(['vm', 'top', '--json']);
  assert.is(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as VmSample[];
  assert.equal(
    rows.map((x) => x.name),
    ['web', 'db'],
  );
  assert.equal(rows[0], SNAP.vms['id-web']![2]);
  assert.equal(Object.keys(rows[0]!).sort(), [
    'at',
    'cpuPct',
    'diskBytes',
    'name',
    'rssBytes',
    'rxBps',
    'rxBytes',
    'txBps',
    'txBytes',
    'vmId',
  ]);
});

test('vm top: a table with CPU %, RSS, rates and disk', async () => {
  const r = await run(['vm', 'top']);
  assert.is(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /^NAME\s+CPU%\s+RSS\s+RX\/S\s+TX\/S\s+DISK$/);
  assert.match(lines[1]!, /^web\s+150%\s+103M\s+3K\/s\s+512B\/s\s+300M$/);
  assert.match(lines[2]!, /^db\s+0\.3%\s+101M\s+0B\/s\s+0B\/s\s+300M$/);
  const none = await run(['vm', 'top'], { host: [], vms: {} });
  assert.match(none.out, /no running VMs/);
  assert.equal(JSON.parse((await run(['vm', 'top', '--json'], { host: [], vms: {} })).out), []);
});

test('vm stats NAME --json: { vm, samples } with the last N', async () => {
  const r = await run(['vm', 'stats', 'WEB', '--json']);
  assert.is(r.code, 0, r.err);
  const body = JSON.parse(r.out);
  assert.equal(Object.keys(body).sort(), ['samples', 'vm']);
  assert.is(body.vm, 'web');
  assert.equal(body.samples, SNAP.vms['id-web']);
  const two = JSON.parse((await run(['vm', 'stats', 'web', '--samples', '2', '--json'])).out);
  assert.equal(
    two.samples.map((x: VmSample) => x.at),
    [T0 + 2000, T0 + 3000],
  );
  const idle = JSON.parse((await run(['vm', 'stats', 'idle', '--json'])).out);
  assert.equal(idle, { vm: 'idle', samples: [] });
});

test('vm stats NAME: current/avg/max summary and recent samples', async () => {
  const r = await run(['vm', 'stats', 'web']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^web: 3 samples over 2s, latest \d+s ago, disk 300M allocated/);
  assert.match(r.out, /\ncpu\s+150%\s+60%\s+150%\n/); // avg (10 + 20 + 150.4) / 3
  assert.match(r.out, /\nrss\s+103M\s+102M\s+103M\n/);
  assert.match(r.out, /\nrx\s+3K\/s\s+2K\/s\s+3K\/s\n/);
  assert.match(r.out, /recent:\nTIME\s+CPU%\s+RSS\s+RX\/S\s+TX\/S\n12:00:01\s+10%/);
  assert.match((await run(['vm', 'stats', 'idle'])).out, /idle: no samples/);
});

test('bad input: unknown VM, bad --samples, missing name, stray args', async () => {
  const unknown = await run(['vm', 'stats', 'nope']);
  assert.is(unknown.code, 1);
  assert.match(unknown.err, /no VM named nope \[E_NOT_FOUND\]/);
  const bad = await run(['vm', 'stats', 'web', '--samples', '0']);
  assert.is(bad.code, 1);
  assert.match(bad.err, /--samples must be 1 to 100000, got 0 \[E_INVALID_ARGUMENT\]/);
  const nan = await run(['vm', 'stats', 'web', '-n', 'lots']);
  assert.match(nan.err, /needs a whole number, got "lots" \[E_INVALID_ARGUMENT\]/);
  const missing = await run(['vm', 'stats']);
  assert.is(missing.code, 1);
  assert.match(missing.err, /missing arguments.*E_USAGE/);
  const stray = await run(['vm', 'top', 'web']);
  assert.match(stray.err, /too many arguments.*E_USAGE/);
});

test('pure helpers', () => {
  assert.equal(
    latestSamples({ host: [], vms: { a: [s('a', 'b', 1, { cpuPct: 5 })], b: [s('b', 'a', 1, { cpuPct: 5 })] } }).map(
      (x) => x.name,
    ),
    ['a', 'b'],
  );
  const sum = summarize(SNAP.vms['id-web']!);
  assert.is(sum.cpuPct.max, 150.4);
  assert.is(sum.spanSec, 2);
  assert.match(topTable([]), /no running VMs/);
  assert.match(statsText('x', [s('x', 'x', 0)], T0 + 5000), /x: 1 sample over 0s, latest 5s ago/);
});

test.run();
