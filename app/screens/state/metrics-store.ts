// The TUI's copy of the live metrics stream: a short history per running VM (for the CPU column
// and the detail pane's sparklines) and the recent host samples (the Metrics screen picks up what
// arrived since its snapshot). Bounded: VMs that drop out of the stream are forgotten at once.
import type { HostSample, MetricsSnapshot, VmSample } from '../../contract/api.js';

export class MetricsStore {
  private vms = new Map<string, VmSample[]>();
  private hostSamples: HostSample[] = [];

  constructor(
    readonly vmCapacity = 120,
    readonly hostCapacity = 120,
  ) {}

  /** One sample from the stream. VMs missing from it have stopped: their history goes. */
  add(host: HostSample, vms: readonly VmSample[]): void {
    push(this.hostSamples, host, this.hostCapacity);
    const seen = new Set<string>();
    for (const s of vms) {
      seen.add(s.vmId);
      const h = this.vms.get(s.vmId);
      if (h) push(h, s, this.vmCapacity);
      else this.vms.set(s.vmId, [s]);
    }
    if (seen.size !== this.vms.size) for (const id of this.vms.keys()) if (!seen.has(id)) this.vms.delete(id);
  }

  /** Replace everything with the engine's snapshot (start, refresh, reconnect). */
  seed(snap: MetricsSnapshot): void {
    this.hostSamples = snap.host.slice(-this.hostCapacity);
    this.vms = new Map(
      Object.entries(snap.vms)
        .filter(([, h]) => h.length)
        .map(([id, h]) => [id, h.slice(-this.vmCapacity)]),
    );
  }

  latest(vmId: string): VmSample | undefined {
    const h = this.vms.get(vmId);
    return h?.[h.length - 1];
  }

  history(vmId: string): readonly VmSample[] {
    return this.vms.get(vmId) ?? [];
  }

  get host(): readonly HostSample[] {
    return this.hostSamples;
  }

  /** Host samples newer than `at` (ms epoch), oldest first. */
  hostSince(at: number): HostSample[] {
    let i = this.hostSamples.length;
    while (i > 0 && this.hostSamples[i - 1]!.at > at) i--;
    return this.hostSamples.slice(i);
  }
}

function push<T>(arr: T[], item: T, cap: number): void {
  arr.push(item);
  if (arr.length > cap) arr.splice(0, arr.length - cap);
}
