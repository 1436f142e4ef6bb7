// bench/metrics.ts: the live-metrics sampler with N running stand-in VMMs (default 100) at 1 Hz
// for ~20 s; prints this process's own CPU use (process.cpuUsage over wall time, target < 2% of
// one core) and the cost of one sample.
//
//   node --import tsx bench/metrics.ts [--vms 100] [--seconds 20] [--standin sim|sleep] [--no-netns]
//
// Stand-ins: `sim` runs test/fixtures/firecracker-sim (a node process with an API socket, what
// the engine's tests launch); `sleep` runs `sleep` (much lighter to start). The sampler's cost
// does not depend on what the process does: it reads /proc/PID/stat either way.
// As root the bench re-runs itself inside a throwaway network namespace holding one TAP per VM,
// so TAP counter reads hit real sysfs files (nothing is created in the root namespace).
// Without root (or with --no-netns) VMs have no TAP and that read is skipped.
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner, type SpawnedProcess } from '../app/base/process.js';
import { MetricsSampler, type MetricsVm } from '../app/engine/metrics/sampler.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
};
const N = Number(opt('vms', '100'));
const SECONDS = Number(opt('seconds', '20'));
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const simPath = join(repo, 'test', 'fixtures', 'firecracker-sim');
const STANDIN = opt('standin', existsSync(simPath) ? 'sim' : 'sleep');
const inner = argv.includes('--inner');
const runner = createRunner();
const tapName = (i: number) => `bmb${i}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function outer(): Promise<void> {
  const ns = `banger-mbench-${process.pid}`;
  await runner.run(['ip', 'netns', 'add', ns]);
  try {
    await runner.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const batch = Array.from({ length: N }, (_, i) => `tuntap add dev ${tapName(i)} mode tap`).join('\n') + '\n';
    await runner.run(['ip', '-n', ns, '-batch', '-'], { input: batch });
    await runner.run(
      [
        'ip',
        'netns',
        'exec',
        ns,
        process.execPath,
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        ...argv,
        '--inner',
      ],
      {
        cwd: repo,
        timeoutMs: (SECONDS + 180) * 1000,
        onOutput: (c) => process.stdout.write(c),
      },
    );
  } finally {
    const pids = await runner.run(['ip', 'netns', 'pids', ns], { reject: false });
    for (const p of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await runner.run(['ip', 'netns', 'delete', ns], { reject: false });
  }
}

// eslint-disable-next-line max-lines-per-function -- long before the lint existed; split when next touched
async function bench(withTaps: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-bench-metrics-'));
  const procs: SpawnedProcess[] = [];
  try {
    const vms: MetricsVm[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const argvI =
        STANDIN === 'sim'
          ? [process.execPath, simPath, '--api-sock', join(dir, `vm${i}.sock`), '--id', `vm${i}`]
          : ['sleep', String(SECONDS + 600)];
      const p = runner.spawn(argvI, { stdio: 'ignore', detached: false });
      procs.push(p);
      // A sparse disk image with a little data, like a fresh rootfs copy.
      const disk = join(dir, `vm${i}.img`);
      const fd = openSync(disk, 'w');
      ftruncateSync(fd, 1 << 30);
      writeSync(fd, Buffer.alloc(64 << 10, 1), 0, 64 << 10, 0);
      closeSync(fd);
      vms.push({
        id: `vm${i}`,
        name: `vm-${i}`,
        pid: p.pid,
        tap: withTaps ? tapName(i) : null,
        diskPath: disk,
        memoryMib: 256,
        state: 'running',
      });
    }
    if (STANDIN === 'sim') {
      // Wait until every simulator is up (its API socket exists).
      while (!vms.every((_, i) => existsSync(join(dir, `vm${i}.sock`)))) {
        if (performance.now() - t0 > 120_000) throw new Error('stand-ins did not start in 120 s');
        await sleep(200);
      }
    }
    console.log(
      `${N} ${STANDIN} stand-ins up in ${((performance.now() - t0) / 1000).toFixed(1)} s; TAPs: ${withTaps ? 'yes (in a netns)' : 'no'}`,
    );
    // This process's own idle cost for reference (timers, GC), without the sampler.
    const b0 = process.cpuUsage();
    const bw0 = performance.now();
    await sleep(3000);
    const bd = process.cpuUsage(b0);
    const baselinePct = ((bd.user + bd.system) / 1000 / (performance.now() - bw0)) * 100;

    let rounds = 0;
    let minVms = Infinity;
    const dns = { vm: 0, forwarded: 0, nxdomain: 0 };
    const sampler = new MetricsSampler({
      listVms: () => vms,
      dnsCounters: () => dns,
      onSample: (_h, v) => {
        rounds++;
        minVms = Math.min(minVms, v.length);
      },
      onError: (e) => console.error('sample failed:', e),
    });
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    sampler.start();
    await sleep(SECONDS * 1000);
    sampler.stop();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - w0;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const timedRounds = rounds;

    // Cost of one sample, back to back (includes the TAP, stat and disk reads of all N VMs).
    const times: number[] = [];
    const c1 = process.cpuUsage();
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await sampler.sampleOnce();
      times.push(performance.now() - s);
    }
    const c1d = process.cpuUsage(c1);
    times.sort((a, b) => a - b);
    const snap = sampler.snapshot();
    const last = snap.vms.vm0?.at(-1);

    console.log(
      `sampler at 1 Hz for ${(wallMs / 1000).toFixed(1)} s: ${timedRounds} rounds, every round had ${minVms} of ${N} VMs`,
    );
    console.log(
      `engine process CPU: ${cpuMs.toFixed(1)} ms over ${(wallMs / 1000).toFixed(1)} s = ${((cpuMs / wallMs) * 100).toFixed(2)}% of one core (target < 2%; idle baseline without the sampler ${baselinePct.toFixed(2)}%)`,
    );
    console.log(
      `one sample of ${N} VMs: median ${times[25].toFixed(2)} ms wall, p90 ${times[45].toFixed(2)} ms, ` +
        `${((c1d.user + c1d.system) / 1000 / 50).toFixed(2)} ms CPU (${((times[25] * 1000) / N).toFixed(1)} us wall per VM)`,
    );
    console.log(
      `history kept: ${snap.host.length} host samples, ${Object.keys(snap.vms).length} VMs; vm0 last: cpu ${last?.cpuPct.toFixed(1)}% rss ${((last?.rssBytes ?? 0) / 1048576).toFixed(1)} MiB disk ${((last?.diskBytes ?? 0) / 1024).toFixed(0)} KiB`,
    );
    if (minVms !== N) process.exitCode = 1;
  } finally {
    for (const p of procs) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (inner) await bench(true);
else if (runner.isRoot && !argv.includes('--no-netns')) await outer();
else await bench(false);
