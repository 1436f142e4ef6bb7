// The live-metrics sampler: one unref'd timer reads host and per-VM counters, turns deltas into
// rates, keeps a bounded history per VM and for the host, and hands each sample to onSample
// (the engine turns it into a 'metrics' EngineEvent).
//
// Units and choices:
// - VmSample.cpuPct is percent of ONE core (100 = one core busy; a 2-vCPU VM can show 200).
//   A VM's first sample uses its lifetime average (ticks / age), like ps; later ones use deltas.
// - HostSample.cpuPct is percent of the WHOLE host (0..100).
// - VmSample rx/tx are from the GUEST's side (rx = bytes the VM received = the TAP's tx), the
//   way Firecracker reports its net device and the way a person reads "this VM received".
// - A VM that is no longer running (state, no pid, process gone, or a zombie) drops out of the
//   stream and its history is removed at once, so memory stays bounded by the live VMs.
// - Reads are synchronous /proc and /sys reads (see readers.ts) through files kept open per VM
//   (handles.ts); stop() closes them. No child processes.
// - A TAP name that is not a valid interface name is treated as "no TAP" (zero traffic).
import { performance } from 'node:perf_hooks';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { HostSample, MetricsSnapshot, VmSample, VmState } from '../../contract/api.js';
import { countByState, isLive } from '../../contract/vm-facts.js';
import { RingBuffer } from './ring.js';
import { KernelFile } from './handles.js';
import {
  DEFAULT_CLOCK_TICKS,
  allocatedBytes,
  hostCpuPct,
  isValidIfName,
  pageSize,
  parseProcStat,
  readHostCpu,
  readHostMemory,
  readUptimeSec,
  type HostCpuTimes,
  type ProcStat,
} from './readers.js';

/** What the sampler needs to know about a VM (a subset of VmRecord plus the disk path). */
export interface MetricsVm {
  id: string;
  name: string;
  pid: number | null;
  tap: string | null;
  diskPath: string | null;
  memoryMib: number;
  state: VmState;
}

export interface MetricsSamplerOptions {
  /** Sampling period; default 1000 ms. */
  intervalMs?: number;
  /** Samples kept per VM and for the host; default 600 (10 minutes at 1 Hz). */
  capacity?: number;
  listVms: () => readonly MetricsVm[] | Promise<readonly MetricsVm[]>;
  /** Cumulative DNS answer counts by kind (e.g. { vm: 10, forwarded: 3, nxdomain: 1 }). */
  dnsCounters?: () => Record<string, number>;
  onSample?: (host: HostSample, vms: VmSample[]) => void;
  /** A failure inside a timer-driven sample or in onSample (never thrown from the timer). */
  onError?: (err: unknown) => void;
  /** USER_HZ; default 100 (see readClockTicks). */
  clockTicks?: number;
}

interface VmTrack {
  ring: RingBuffer<VmSample>;
  pid: number;
  stat: KernelFile;
  tap: string | null;
  rx: KernelFile | null;
  tx: KernelFile | null;
  startTicks: number;
  /** Baselines from the previous sample; ticks < 0 means "none yet". */
  ticks: number;
  atMs: number;
  tapRx: number;
  tapTx: number;
  hasNet: boolean;
}

export class MetricsSampler {
  readonly intervalMs: number;
  readonly capacity: number;
  private readonly hz: number;
  private readonly host: RingBuffer<HostSample>;
  private readonly tracks = new Map<string, VmTrack>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private prevCpu: HostCpuTimes | null = null;
  private prevDns: Record<string, number> | null = null;
  private prevAtMs = 0;
  private seen = new Set<string>();

  constructor(private readonly opts: MetricsSamplerOptions) {
    const intervalMs = opts.intervalMs ?? 1000;
    const capacity = opts.capacity ?? 600;
    const hz = opts.clockTicks ?? DEFAULT_CLOCK_TICKS;
    if (!Number.isFinite(intervalMs) || intervalMs < 50 || intervalMs > 3_600_000) {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `metrics interval must be 50 ms to 1 hour, got ${intervalMs}`);
    }
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `metrics history capacity must be an integer from 1 to 100000, got ${capacity}`,
      );
    }
    if (!Number.isInteger(hz) || hz < 1) {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `clock ticks must be a positive integer, got ${hz}`);
    }
    if (typeof opts.listVms !== 'function') {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'metrics sampler needs a listVms function');
    }
    this.intervalMs = intervalMs;
    this.capacity = capacity;
    this.hz = hz;
    this.host = new RingBuffer<HostSample>(capacity);
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Start sampling (first sample right away). Idempotent. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.tick();
  }

  /** Stop the timer and close the kept-open files; history is kept. Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.tracks.values()) closeTrack(t);
  }

  snapshot(): MetricsSnapshot {
    const vms: Record<string, VmSample[]> = {};
    for (const [id, t] of this.tracks) vms[id] = t.ring.toArray();
    return { host: this.host.toArray(), vms };
  }

  vmHistory(vmId: string): VmSample[] {
    return this.tracks.get(vmId)?.ring.toArray() ?? [];
  }

  /** Take one sample now. Concurrent calls share the sample in progress. */
  sampleOnce(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.sample().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private tick(): void {
    this.sampleOnce().catch((err) => this.report(err));
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      /* a broken error hook must not break the timer */
    }
  }

  /** The VM's track (kept-open /proc files and history), new or carried over; null when its process is gone. */
  private trackOf(vmId: string, pid: number): { t: VmTrack; st: ProcStat } | null {
    let t = this.tracks.get(vmId);
    if (t && t.pid !== pid) {
      // Restarted under a new pid: watch the new process, keep the history.
      t.stat.close();
      t.stat = new KernelFile(`/proc/${pid}/stat`);
      t.pid = pid;
      t.ticks = -1;
      t.hasNet = false;
    }
    const stat = t ? t.stat : new KernelFile(`/proc/${pid}/stat`);
    const st = readStat(stat);
    if (!st) {
      stat.close();
      return null;
    }
    if (!t) {
      t = {
        ring: new RingBuffer<VmSample>(this.capacity),
        pid,
        stat,
        tap: null,
        rx: null,
        tx: null,
        startTicks: st.startTicks,
        ticks: -1,
        atMs: 0,
        tapRx: 0,
        tapTx: 0,
        hasNet: false,
      };
      this.tracks.set(vmId, t);
    } else if (t.startTicks !== st.startTicks) {
      // The pid was reused by another process (possible after stop() closed the files).
      t.startTicks = st.startTicks;
      t.ticks = -1;
      t.hasNet = false;
    }
    return { t, st };
  }

  /** Since the last sample; the first one averages over the process's life. */
  private cpuPctOf(t: VmTrack, st: ProcStat, nowMs: number, uptimeSec: () => number): number {
    let cpuPct: number;
    if (t.ticks >= 0 && nowMs > t.atMs) {
      cpuPct = ((st.ticks - t.ticks) / this.hz / ((nowMs - t.atMs) / 1000)) * 100;
    } else {
      const ageSec = uptimeSec() - st.startTicks / this.hz;
      cpuPct = ageSec > 0 ? (st.ticks / this.hz / ageSec) * 100 : 0;
    }
    return cpuPct >= 0 ? cpuPct : 0;
  }

  /** A VM that stopped, vanished from the list or lost its process drops out with its history. */
  private dropUnseen(): void {
    if (this.tracks.size === this.seen.size) return;
    for (const [id, t] of this.tracks) {
      if (!this.seen.has(id)) {
        closeTrack(t);
        this.tracks.delete(id);
      }
    }
  }

  private dnsRates(dtSec: number): Record<string, number> {
    const dnsQps: Record<string, number> = {};
    if (!this.opts.dnsCounters) return dnsQps;
    const cur = this.opts.dnsCounters();
    for (const kind of Object.keys(cur)) {
      const prev = this.prevDns?.[kind];
      const c = cur[kind];
      // First sample, a new kind, or a counter reset: no rate yet.
      dnsQps[kind] = prev !== undefined && dtSec > 0 && c >= prev ? (c - prev) / dtSec : 0;
    }
    this.prevDns = { ...cur };
    return dnsQps;
  }

  private async sample(): Promise<void> {
    const list = await this.opts.listVms();
    const nowMs = performance.now();
    const at = Date.now();
    const dtSec = this.prevAtMs ? (nowMs - this.prevAtMs) / 1000 : 0;

    // Host CPU: the first sample is the average since boot, later ones are deltas.
    const cpu = readHostCpu();
    const hostCpu = hostCpuPct(this.prevCpu ?? { busy: 0, total: 0 }, cpu);
    this.prevCpu = cpu;
    const mem = readHostMemory();

    const byState = countByState(list);
    let committedMib = 0;
    const samples: VmSample[] = [];
    this.seen.clear();
    let uptime = -1;
    const uptimeSec = () => (uptime < 0 ? (uptime = readUptimeSec()) : uptime);
    const page = pageSize();

    for (const vm of list) {
      // A paused VMM keeps its memory; its CPU use is measured like any other (near zero).
      if (!isLive(vm.state)) continue;
      committedMib += vm.memoryMib > 0 ? vm.memoryMib : 0;
      if (!vm.pid || vm.pid < 1 || !Number.isInteger(vm.pid)) continue;
      const tracked = this.trackOf(vm.id, vm.pid);
      if (!tracked) continue; // process gone (or a zombie): drops out below
      const { t, st } = tracked;
      this.seen.add(vm.id);
      const cpuPct = this.cpuPctOf(t, st, nowMs, uptimeSec);
      const net = netOf(t, vm.tap, (nowMs - t.atMs) / 1000);
      t.ticks = st.ticks;
      t.atMs = nowMs;
      const sample: VmSample = {
        vmId: vm.id,
        name: vm.name,
        at,
        cpuPct,
        rssBytes: st.rssPages * page,
        ...net,
        diskBytes: vm.diskPath ? diskBytes(vm.diskPath) : 0,
      };
      t.ring.push(sample);
      samples.push(sample);
    }
    this.dropUnseen();
    const dnsQps = this.dnsRates(dtSec);
    this.prevAtMs = nowMs;

    const host: HostSample = {
      at,
      cpuPct: hostCpu,
      memTotalBytes: mem.totalBytes,
      memUsedBytes: mem.usedBytes,
      memCommittedBytes: committedMib * 1024 * 1024,
      vmsByState: byState,
      dnsQps,
    };
    this.host.push(host);
    if (this.opts.onSample) {
      try {
        this.opts.onSample(host, samples);
      } catch (err) {
        this.report(err);
      }
    }
  }
}

/** The guest's traffic (what the TAP transmits is what the guest receives) and its rates. */
function netOf(
  t: VmTrack,
  tap: string | null,
  netDt: number,
): Pick<VmSample, 'rxBytes' | 'txBytes' | 'rxBps' | 'txBps'> {
  const net = readNet(t, tap);
  if (!net) {
    t.hasNet = false;
    return { rxBytes: 0, txBytes: 0, rxBps: 0, txBps: 0 };
  }
  const rxBytes = net.txBytes;
  const txBytes = net.rxBytes;
  let rxBps = 0,
    txBps = 0;
  if (t.hasNet && netDt > 0) {
    // A counter that went down means the TAP was recreated: no rate for this round.
    rxBps = rxBytes >= t.tapRx ? (rxBytes - t.tapRx) / netDt : 0;
    txBps = txBytes >= t.tapTx ? (txBytes - t.tapTx) / netDt : 0;
  }
  t.tapRx = rxBytes;
  t.tapTx = txBytes;
  t.hasNet = true;
  return { rxBytes, txBytes, rxBps, txBps };
}

function readStat(f: KernelFile): ProcStat | null {
  const text = f.read();
  const st = text === null ? null : parseProcStat(text);
  return st && st.state !== 'Z' && st.state !== 'X' ? st : null;
}

/** The TAP's host-side counters through the track's kept-open files; null without a TAP. */
function readNet(t: VmTrack, tap: string | null): { rxBytes: number; txBytes: number } | null {
  const name = isValidIfName(tap) ? tap : null;
  if (name !== t.tap) {
    t.rx?.close();
    t.tx?.close();
    t.tap = name;
    t.rx = name ? new KernelFile(`/sys/class/net/${name}/statistics/rx_bytes`) : null;
    t.tx = name ? new KernelFile(`/sys/class/net/${name}/statistics/tx_bytes`) : null;
    t.hasNet = false;
  }
  if (!t.rx || !t.tx) return null;
  // reopen: a TAP deleted and recreated under the same name leaves our old fds dead.
  const rx = t.rx.read(true);
  const tx = rx === null ? null : t.tx.read(true);
  if (rx === null || tx === null) return null;
  const rxBytes = Number(rx);
  const txBytes = Number(tx);
  return Number.isFinite(rxBytes) && Number.isFinite(txBytes) ? { rxBytes, txBytes } : null;
}

/** One unreadable disk image (permissions) must not cost every VM its sample. */
function diskBytes(path: string): number {
  try {
    return allocatedBytes(path) ?? 0;
  } catch {
    return 0;
  }
}

function closeTrack(t: VmTrack): void {
  t.stat.close();
  t.rx?.close();
  t.tx?.close();
}
