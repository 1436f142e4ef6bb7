// Metrics for the fake engine: smooth waves per VM (so charts and sparklines move), cumulative
// net counters, stopped VMs dropped with their history, as the engine's sampler emits them.
import type { HostSample, MetricsSnapshot, VmRecord, VmSample, VmState } from '../../app/contract/api.js';

const MIB = 1024 * 1024;
const CAPACITY = 600;

export class FakeMetrics {
  private tick = 0;
  private host: HostSample[] = [];
  private perVm = new Map<string, VmSample[]>();

  sample(all: VmRecord[]): { host: HostSample; vms: VmSample[] } {
    const k = ++this.tick;
    const at = Date.now();
    const wave = (period: number, phase = 0) => (1 + Math.sin(k / period + phase)) / 2;
    const byState: Record<VmState, number> = {
      created: 0,
      starting: 0,
      running: 0,
      paused: 0,
      stopping: 0,
      stopped: 0,
      error: 0,
    };
    let committed = 0;
    const vms: VmSample[] = [];
    [...all]
      .sort((a, b) => a.name.localeCompare(b.name))
      .forEach((vm, i) => {
        byState[vm.state]++;
        if (vm.state !== 'running') return;
        committed += vm.memoryMib * MIB;
        vms.push(this.vmSample(vm, i, at, wave));
      });
    const live = new Set(vms.map((s) => s.vmId));
    for (const id of [...this.perVm.keys()]) if (!live.has(id)) this.perVm.delete(id);
    const host: HostSample = {
      at,
      cpuPct: 8 + 50 * wave(7),
      memTotalBytes: 16384 * MIB,
      memUsedBytes: Math.round((5000 + 3000 * wave(11)) * MIB),
      memCommittedBytes: committed,
      vmsByState: byState,
      dnsQps: { vm: 4 + 6 * wave(6), forwarded: 2 * wave(8, 2), nxdomain: k % 5 === 0 ? 1 : 0 },
    };
    this.host.push(host);
    if (this.host.length > CAPACITY) this.host.shift();
    return { host, vms };
  }

  private vmSample(vm: VmRecord, i: number, at: number, wave: (p: number, ph?: number) => number): VmSample {
    const hist = this.perVm.get(vm.id) ?? [];
    const prev = hist[hist.length - 1];
    const rxBps = Math.round(20_000 * wave(3, i));
    const txBps = Math.round(5_000 * wave(4, i + 1));
    const dt = prev ? (at - prev.at) / 1000 : 0;
    const s: VmSample = {
      vmId: vm.id,
      name: vm.name,
      at,
      cpuPct: 2 + 60 * wave(5, i),
      rssBytes: Math.round(vm.memoryMib * MIB * (0.3 + 0.2 * wave(9, i))),
      rxBytes: (prev?.rxBytes ?? 0) + Math.round(rxBps * dt),
      txBytes: (prev?.txBytes ?? 0) + Math.round(txBps * dt),
      rxBps: prev ? rxBps : 0,
      txBps: prev ? txBps : 0,
      diskBytes: 200 * MIB,
    };
    hist.push(s);
    if (hist.length > CAPACITY) hist.shift();
    this.perVm.set(vm.id, hist);
    return s;
  }

  snapshot(): MetricsSnapshot {
    return { host: [...this.host], vms: Object.fromEntries([...this.perVm].map(([id, h]) => [id, [...h]])) };
  }
}
