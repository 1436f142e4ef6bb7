// The /proc and /sys readers against real processes and files, checked against ps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  ftruncateSync,
} from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createRunner, which, type SpawnedProcess } from '../../../app/base/process.js';
import { BangerError } from '../../../app/base/errors.js';
import {
  allocatedBytes,
  hostCpuPct,
  parseHostCpu,
  parseMeminfo,
  parseProcStat,
  processCpuTicks,
  readClockTicks,
  readHostCpu,
  readHostMemory,
  readProcStat,
  readUptimeSec,
  rssBytes,
  tapCounters,
  pageSize,
} from '../../../app/engine/metrics/readers.js';

const runner = createRunner();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: SpawnedProcess[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'banger-metrics-'));

function start(argv: string[]): SpawnedProcess {
  const p = runner.spawn(argv, { stdio: 'ignore', detached: false });
  started.push(p);
  return p;
}

async function ps(pid: number): Promise<{ cpu: number; rssBytes: number }> {
  const r = await runner.run(['ps', '-o', '%cpu=,rss=', '-p', String(pid)]);
  const [cpu, rss] = r.stdout.trim().split(/\s+/).map(Number);
  return { cpu, rssBytes: rss * 1024 };
}

/** CPU percent of one core over a window, from our tick reader. */
async function cpuPctOver(pid: number, ms: number): Promise<number> {
  const a = processCpuTicks(pid)!;
  const t0 = performance.now();
  await sleep(ms);
  const b = processCpuTicks(pid)!;
  return ((b - a) / 100 / ((performance.now() - t0) / 1000)) * 100;
}

test('parseProcStat counts fields from the LAST ")" (comm may hold spaces and parentheses)', () => {
  const tail = 'S 1 2 3 4 5 6 7 8 9 10 111 222 13 14 15 16 17 18 4242 20 333 22 23';
  const st = parseProcStat(`99 (a) b (c)) ${tail}\n`);
  assert.equal(st, { ticks: 333, rssPages: 333, startTicks: 4242, state: 'S' });
  // The naive split at the first ')' would read different fields.
  assert.equal(parseProcStat(`99 (x) R 1 ${tail}`)?.state, 'R');
  assert.is(parseProcStat('garbage'), null);
  assert.is(parseProcStat('1 (x) S 1 2'), null, 'too few fields');
  assert.is(parseProcStat(`1 (x) ${tail.replace('111', '1a1')}`), null, 'non-numeric utime');
});

test('a process whose name holds spaces and parentheses is read correctly', async () => {
  const weird = join(tmp, 'b) (x y');
  symlinkSync(which('sleep')!, weird);
  const p = start([weird, '30']);
  await sleep(200);
  const st = readProcStat(p.pid);
  assert.ok(st, 'stat read');
  assert.is(st!.state, 'S');
  assert.ok(st!.rssPages > 0 && st!.rssPages < 10_000, `rss pages sane: ${st!.rssPages}`);
  assert.ok(st!.ticks >= 0 && st!.ticks < 100);
});

// The machine has 2 cores and other suites may be busy on it, so a busy loop is not
// guaranteed a whole core: the bands are wide, and the tight check is against ps over the
// same lifetime (ps %cpu = cputime / elapsed since the process started).
test('busy and idle processes: CPU % agrees with ps', async () => {
  const busy = start(['sh', '-c', 'while :; do :; done']);
  const idle = start(['sleep', '30']);
  await sleep(800);
  const busyPct = await cpuPctOver(busy.pid, 1000);
  const idlePct = await cpuPctOver(idle.pid, 200);
  const lifetime = (pid: number) => {
    const st = readProcStat(pid)!;
    return (st.ticks / 100 / (readUptimeSec() - st.startTicks / 100)) * 100;
  };
  const oursLife = lifetime(busy.pid);
  const psBusy = await ps(busy.pid);
  const psIdle = await ps(idle.pid);
  // Other agents' load can starve the loop: busy only has to be clearly above idle.
  assert.ok(busyPct > 8 && busyPct <= 110, `our busy CPU % ${busyPct}`);
  assert.ok(psBusy.cpu > 8, `ps busy CPU % ${psBusy.cpu}`);
  assert.ok(Math.abs(oursLife - psBusy.cpu) < 10, `lifetime: ours ${oursLife} vs ps ${psBusy.cpu}`);
  assert.ok(idlePct < 5, `our idle CPU % ${idlePct}`);
  assert.ok(psIdle.cpu < 5, `ps idle CPU % ${psIdle.cpu}`);
  assert.ok(Math.abs(lifetime(idle.pid) - psIdle.cpu) < 2, 'idle lifetime agrees with ps');
});

test('RSS agrees with ps within 20%, also for a process holding ~64 MiB', async () => {
  const big = start([
    process.execPath,
    '-e',
    'const b = Buffer.alloc(64 << 20, 1); setInterval(() => { b[0]++; }, 1000);',
  ]);
  const small = start(['sleep', '30']);
  // Wait until node has started and its RSS has settled (two reads 200 ms apart within 1%).
  let prev = 0;
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const cur = rssBytes(big.pid) ?? 0;
    if (cur > 64 << 20 && Math.abs(cur - prev) < cur * 0.01) break;
    prev = cur;
  }
  for (const p of [big, small]) {
    const mine = rssBytes(p.pid)!;
    const theirs = (await ps(p.pid)).rssBytes;
    assert.ok(Math.abs(mine - theirs) <= theirs * 0.2, `pid ${p.pid}: ours ${mine} vs ps ${theirs}`);
    // The one-read path the sampler uses (stat field 24) agrees with statm. Both are the kernel's
    // per-CPU-batched counters, so allow a small absolute slack for tiny processes.
    const viaStat = readProcStat(p.pid)!.rssPages * pageSize();
    assert.ok(Math.abs(viaStat - mine) <= Math.max(mine * 0.05, 1 << 20), `stat ${viaStat} vs statm ${mine}`);
  }
  assert.ok(rssBytes(big.pid)! > 64 << 20, 'big process holds its 64 MiB');
});

test('a process that is gone reads as null; bad pids are rejected', async () => {
  const p = start(['sleep', '30']);
  await sleep(50);
  assert.ok(processCpuTicks(p.pid) !== null);
  process.kill(p.pid, 'SIGKILL');
  await p.exited;
  assert.is(processCpuTicks(p.pid), null);
  assert.is(rssBytes(p.pid), null);
  for (const bad of [0, -1, 1.5, NaN]) {
    try {
      processCpuTicks(bad);
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, BangerError);
      assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
    }
  }
});

test('tapCounters: missing interface is null, loopback reads, bad names are rejected', () => {
  assert.is(tapCounters('bgr-nope0'), null);
  const lo = tapCounters('lo');
  assert.ok(lo && lo.rxBytes >= 0 && lo.txBytes >= 0);
  for (const bad of ['../lo', '..', 'a/b', '', 'x'.repeat(16), 'a b']) {
    try {
      tapCounters(bad);
      assert.unreachable(`should reject ${bad}`);
    } catch (e) {
      assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT', bad);
    }
  }
});

test('allocatedBytes counts real blocks of a sparse image, null when missing', () => {
  const img = join(tmp, 'disk.img');
  const fd = openSync(img, 'w');
  ftruncateSync(fd, 256 << 20);
  closeSync(fd);
  const sparse = allocatedBytes(img)!;
  assert.ok(sparse < 1 << 20, `sparse 256 MiB image occupies little: ${sparse}`);
  const fd2 = openSync(img, 'r+');
  writeSync(fd2, Buffer.alloc(4 << 20, 7), 0, 4 << 20, 0);
  closeSync(fd2);
  const filled = allocatedBytes(img)!;
  assert.ok(filled >= 4 << 20 && filled < 8 << 20, `after writing 4 MiB: ${filled}`);
  assert.is(allocatedBytes(join(tmp, 'nope.img')), null);
  writeFileSync(join(tmp, 'empty'), '');
  assert.is(allocatedBytes(join(tmp, 'empty')), 0);
});

test('host CPU and memory parse and stay sane', async () => {
  assert.equal(parseHostCpu('cpu  10 0 10 70 10 0 0 0 5 0\ncpu0 1 2 3\n'), { busy: 20, total: 100 });
  assert.is(parseHostCpu('intr 1 2'), null);
  assert.equal(parseMeminfo('MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable:  400 kB\n'), {
    totalBytes: 1024000,
    usedBytes: 614400,
  });
  assert.equal(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 200 kB\n'), {
    totalBytes: 1024000,
    usedBytes: 600 * 1024,
  });
  const a = readHostCpu();
  const busy = start(['sh', '-c', 'while :; do :; done']);
  await sleep(500);
  const b = readHostCpu();
  process.kill(busy.pid, 'SIGKILL');
  const pct = hostCpuPct(a, b);
  // One busy core of N: at least a good share of 100/N.
  const cores = (await runner.run(['nproc'])).stdout.trim();
  assert.ok(pct >= 0 && pct <= 100, `host cpu ${pct}`);
  assert.ok(pct > 30 / Number(cores), `busy loop shows on the host: ${pct}% of ${cores} cores`);
  const mem = readHostMemory();
  assert.is(mem.totalBytes, totalmem());
  assert.ok(mem.usedBytes > 0 && mem.usedBytes <= mem.totalBytes);
});

test('clock ticks come from getconf once', async () => {
  const hz = await readClockTicks(runner);
  assert.is(hz, Number((await runner.run(['getconf', 'CLK_TCK'])).stdout.trim()));
  const broken = {
    ...runner,
    run: async () => {
      throw new Error('no getconf');
    },
  };
  assert.is(await readClockTicks(broken), 100);
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
