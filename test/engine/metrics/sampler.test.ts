// The sampler against real stand-in VMM processes (sleep / a busy shell loop) and real files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner, type SpawnedProcess } from '../../../app/base/process.js';
import { BangerError } from '../../../app/base/errors.js';
import { MetricsSampler, type MetricsVm } from '../../../app/engine/metrics/sampler.js';
import { readProcStat, readUptimeSec } from '../../../app/engine/metrics/readers.js';
import type { HostSample, VmSample } from '../../../app/contract/api.js';

const runner = createRunner();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: SpawnedProcess[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'banger-sampler-'));

function start(argv: string[]): SpawnedProcess {
  const p = runner.spawn(argv, { stdio: 'ignore', detached: false });
  started.push(p);
  return p;
}

function vm(id: string, pid: number | null, extra: Partial<MetricsVm> = {}): MetricsVm {
  return { id, name: `vm-${id}`, pid, tap: null, diskPath: null, memoryMib: 128, state: 'running', ...extra };
}

test('busy and idle VMs: CPU % from deltas, RSS, disk, committed memory', async () => {
  const busy = start(['sh', '-c', 'while :; do :; done']);
  const idle = start(['sleep', '60']);
  const disk = join(tmp, 'idle.img');
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, 64 << 20);
  writeSync(fd, Buffer.alloc(2 << 20, 1), 0, 2 << 20, 0);
  closeSync(fd);
  const vms = [
    vm('b', busy.pid, { memoryMib: 256 }),
    vm('i', idle.pid, { diskPath: disk }),
    vm('s', null, { state: 'stopped', memoryMib: 4096 }),
  ];
  const seen: { host: HostSample; vms: VmSample[] }[] = [];
  const s = new MetricsSampler({ listVms: () => vms, onSample: (host, v) => seen.push({ host, vms: v }) });
  await sleep(300);
  await s.sampleOnce();
  await sleep(1000);
  await s.sampleOnce();
  assert.is(seen.length, 2);
  const last = seen[1];
  const b = last.vms.find((x) => x.vmId === 'b')!;
  const i = last.vms.find((x) => x.vmId === 'i')!;
  // ~100% of a core on an idle machine; other suites may share the 2 cores, so the band is wide.
  assert.ok(b.cpuPct > 20 && b.cpuPct <= 110, `busy VM near a core: ${b.cpuPct}`);
  assert.ok(i.cpuPct < 5, `idle VM near 0: ${i.cpuPct}`);
  assert.ok(i.rssBytes > 0 && i.rssBytes < 64 << 20, `sleep's RSS ${i.rssBytes}`);
  assert.ok(i.diskBytes >= 2 << 20 && i.diskBytes < 8 << 20, `allocated disk bytes ${i.diskBytes}`);
  assert.is(b.diskBytes, 0);
  assert.is(b.rxBps, 0);
  assert.is(b.name, 'vm-b');
  assert.is(last.vms.length, 2, 'the stopped VM is not sampled');
  assert.is(last.host.memCommittedBytes, (256 + 128) * 1024 * 1024, 'committed = running VMs only');
  assert.is(last.host.vmsByState.running, 2);
  assert.is(last.host.vmsByState.stopped, 1);
  assert.is(last.host.vmsByState.error, 0);
  for (const { host } of seen) {
    assert.ok(host.cpuPct >= 0 && host.cpuPct <= 100, `host cpu ${host.cpuPct}`);
    assert.ok(host.memUsedBytes > 0 && host.memUsedBytes <= host.memTotalBytes);
  }
  assert.ok(last.host.cpuPct >= (b.cpuPct / cpus().length) * 0.8, `the busy VM shows on the host: ${last.host.cpuPct}`);
  assert.equal(
    s.vmHistory('b').map((x) => x.cpuPct),
    seen.map((x) => x.vms.find((v) => v.vmId === 'b')!.cpuPct),
  );
  process.kill(busy.pid, 'SIGKILL');
});

test('a VM that stops drops out of the stream with its history', async () => {
  const a = start(['sleep', '60']);
  const b = start(['sleep', '60']);
  const vms = [vm('a', a.pid), vm('b', b.pid)];
  let lastVms: VmSample[] = [];
  const s = new MetricsSampler({
    listVms: () => vms,
    onSample: (_h, v) => {
      lastVms = v;
    },
  });
  await s.sampleOnce();
  await s.sampleOnce();
  assert.equal(Object.keys(s.snapshot().vms).sort(), ['a', 'b']);
  assert.is(s.vmHistory('b').length, 2);

  // b is stopped by the engine (state change).
  vms[1] = { ...vms[1], state: 'stopped' };
  await s.sampleOnce();
  assert.equal(
    lastVms.map((x) => x.vmId),
    ['a'],
  );
  assert.equal(Object.keys(s.snapshot().vms), ['a']);
  assert.equal(s.vmHistory('b'), []);
  assert.is(s.snapshot().host.at(-1)!.vmsByState.stopped, 1);

  // a's process dies while the record still says running.
  process.kill(a.pid, 'SIGKILL');
  await a.exited;
  await s.sampleOnce();
  assert.equal(lastVms, []);
  assert.equal(s.snapshot().vms, {});

  // b comes back with a new process: a fresh history starts.
  const b2 = start(['sleep', '60']);
  vms[1] = vm('b', b2.pid);
  await s.sampleOnce();
  assert.is(s.vmHistory('b').length, 1);

  // Removed from the list altogether.
  vms.length = 0;
  await s.sampleOnce();
  assert.equal(s.snapshot().vms, {});
});

test('a restarted VM (new pid, same id) keeps its history with fresh baselines', async () => {
  const p1 = start(['sh', '-c', 'while :; do :; done']);
  const vms = [vm('r', p1.pid)];
  const s = new MetricsSampler({ listVms: () => vms });
  await sleep(900);
  await s.sampleOnce();
  const p2 = start(['sh', '-c', 'while :; do :; done']);
  process.kill(p1.pid, 'SIGKILL');
  vms[0] = vm('r', p2.pid);
  await sleep(400);
  await s.sampleOnce();
  const st = readProcStat(p2.pid)!;
  const expected = (st.ticks / 100 / (readUptimeSec() - st.startTicks / 100)) * 100;
  process.kill(p2.pid, 'SIGKILL');
  const h = s.vmHistory('r');
  assert.is(h.length, 2);
  // Fresh baseline: the new process shows its own lifetime average. Subtracting the old
  // process's larger tick count instead would give a negative value, clamped to 0.
  assert.ok(h[1].cpuPct > 0, `fresh baseline: ${h[1].cpuPct}`);
  assert.ok(Math.abs(h[1].cpuPct - expected) < 15, `lifetime average ${h[1].cpuPct} vs ${expected}`);
});

test('history is bounded by capacity, oldest first', async () => {
  const p = start(['sleep', '60']);
  const s = new MetricsSampler({ capacity: 3, listVms: () => [vm('x', p.pid)] });
  for (let i = 0; i < 7; i++) {
    await s.sampleOnce();
    await sleep(5);
  }
  const snap = s.snapshot();
  assert.is(snap.host.length, 3);
  assert.is(snap.vms.x.length, 3);
  for (let i = 1; i < 3; i++) assert.ok(snap.vms.x[i].at >= snap.vms.x[i - 1].at);
  assert.is(s.vmHistory('nope').length, 0);
});

test('DNS rate by answer kind from cumulative counters', async () => {
  const counts: Record<string, number> = { vm: 10, nxdomain: 5 };
  let host: HostSample | null = null;
  const s = new MetricsSampler({
    listVms: () => [],
    dnsCounters: () => counts,
    onSample: (h) => {
      host = h;
    },
  });
  await s.sampleOnce();
  assert.equal(host!.dnsQps, { vm: 0, nxdomain: 0 }, 'no rate on the first sample');
  await sleep(500);
  counts.vm += 50;
  counts.forwarded = 7;
  await s.sampleOnce();
  assert.ok(host!.dnsQps.vm > 70 && host!.dnsQps.vm < 110, `~100 qps: ${host!.dnsQps.vm}`);
  assert.is(host!.dnsQps.nxdomain, 0);
  assert.is(host!.dnsQps.forwarded, 0, 'a new kind has no rate yet');
  counts.vm = 3; // the DNS server restarted
  await s.sampleOnce();
  assert.is(host!.dnsQps.vm, 0);
});

test("start/stop: one unref'd timer, first sample at once, callback errors reported not thrown", async () => {
  let n = 0;
  const errors: unknown[] = [];
  const s = new MetricsSampler({
    intervalMs: 60,
    listVms: () => [],
    onSample: () => {
      n++;
      if (n === 2) throw new Error('listener broke');
    },
    onError: (e) => errors.push(e),
  });
  s.start();
  s.start(); // idempotent: still one timer
  assert.ok(s.running);
  await sleep(20);
  assert.is(n, 1, 'first sample right away');
  await sleep(300);
  s.stop();
  const after = n;
  assert.ok(after >= 4 && after <= 8, `about 5 samples in 320 ms at 60 ms: ${after}`);
  assert.is(errors.length, 1);
  assert.match(String(errors[0]), 'listener broke');
  await sleep(200);
  assert.is(n, after, 'no samples after stop');
  assert.not.ok(s.running);
});

test('the timer does not keep the process alive', async () => {
  const script = `import { MetricsSampler } from './app/engine/metrics/sampler.ts';
    new MetricsSampler({ intervalMs: 100, listVms: () => [] }).start(); console.log('started');`;
  const t0 = Date.now();
  const r = await runner.run([process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    timeoutMs: 10_000,
    cwd: join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
  });
  assert.is(r.stdout.trim(), 'started');
  assert.ok(Date.now() - t0 < 8000);
});

test('failing listVms rejects sampleOnce; invalid options are BangerErrors', async () => {
  const s = new MetricsSampler({
    listVms: () => {
      throw new Error('store closed');
    },
  });
  try {
    await s.sampleOnce();
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), 'store closed');
  }
  const bad: unknown[] = [
    { intervalMs: 0 },
    { intervalMs: NaN },
    { capacity: 0 },
    { capacity: 2.5 },
    { clockTicks: 0 },
    { listVms: undefined },
  ];
  for (const b of bad) {
    try {
      new MetricsSampler({ listVms: () => [], ...(b as object) });
      assert.unreachable(JSON.stringify(b));
    } catch (e) {
      assert.instance(e, BangerError);
      assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
    }
  }
});

test.after(async () => {
  for (const p of started) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
