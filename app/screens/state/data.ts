// What the screens show, kept in memory and fed by engine events: VM changes are applied at
// once from the event, and a throttled refetch (<= 10/s) brings lists and status in line.
import type {
  BuildProgress,
  DnsRecord,
  EngineApi,
  EngineEvent,
  EngineStatus,
  ImageRecord,
  KernelRecord,
  Unsubscribe,
  VmRecord,
} from '../../contract/api.js';
import { MetricsStore } from './metrics-store.js';
import { Throttle } from './scheduler.js';

const MAX_LOG_LINES = 5000;
const MAX_BUILD_LOG_LINES = 2000;

/** Two turns of the event loop: a render requested now (setImmediate) has happened. */
const afterFrame = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));

export type Topic = 'vms' | 'images' | 'builds' | 'dns' | 'status' | 'log' | 'metrics';

export class DataModel {
  vms: VmRecord[] = [];
  images: ImageRecord[] = [];
  kernels: KernelRecord[] = [];
  builds = new Map<string, BuildProgress>();
  buildLogs = new Map<string, string[]>();
  dns: DnsRecord[] = [];
  status: EngineStatus | null = null;
  log: string[] = [];
  lastError: string | null = null;
  /** Live metrics from 'metrics' events (seeded from engine.metrics() on a full refetch). */
  readonly metrics = new MetricsStore();

  private unsub: Unsubscribe | null = null;
  private dirty = new Set<'vms' | 'images' | 'dns' | 'status'>();
  private throttle: Throttle;
  private partialBuildLine = new Map<string, string>();

  private changed = new Set<Topic>();
  private changeQueued = false;

  constructor(
    private readonly engine: EngineApi,
    private readonly notify: (topics: Set<Topic>) => void,
    intervalMs = 100,
  ) {
    this.throttle = new Throttle(() => void this.refetchDirty(), intervalMs);
  }

  /** Changes are batched per tick: a storm of 1,000 events refreshes the screens once. */
  private onChange(topics: Set<Topic>): void {
    for (const t of topics) this.changed.add(t);
    if (this.changeQueued) return;
    this.changeQueued = true;
    setImmediate(() => {
      this.changeQueued = false;
      const batch = this.changed;
      this.changed = new Set();
      if (this.unsub || batch.size) this.notify(batch);
    });
  }

  async start(): Promise<void> {
    this.unsub = this.engine.subscribe((e) => this.onEvent(e));
    await this.refetchAll();
  }

  stop(): void {
    this.unsub?.();
    this.unsub = null;
    this.throttle.stop();
  }

  async refetchAll(): Promise<void> {
    const topics = new Set<Topic>(['vms', 'images', 'builds', 'dns', 'status', 'log', 'metrics']);
    const vms = this.engine.listVms().then((v) => {
      this.vms = v;
      this.onChange(new Set(['vms'])); // the table draws without waiting for slower answers
    });
    const results = await Promise.allSettled([
      vms,
      this.engine.listImages().then((v) => {
        this.images = v;
      }),
      this.engine.listKernels().then((v) => {
        this.kernels = v;
      }),
      this.engine.listBuilds().then((v) => {
        for (const b of v) this.builds.set(b.id, b);
      }),
      this.engine.dnsRecords().then((v) => {
        this.dns = v;
      }),
      // A cold engine's status probes its backends (a process each, and spawning blocks the
      // thread of an embedded engine): asked once the VM table has had its frame.
      vms
        .catch(() => {})
        .then(afterFrame)
        .then(() => this.engine.status())
        .then((v) => {
          this.status = v;
        }),
      this.engine.engineLog(500).then((v) => {
        this.log = v.slice(-MAX_LOG_LINES);
      }),
      this.engine.metrics({ last: 60 }).then((m) => this.metrics.seed(m)),
    ]);
    this.noteErrors(results);
    this.onChange(topics);
  }

  private noteErrors(results: PromiseSettledResult<unknown>[]): void {
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    this.lastError = failed ? (failed.reason instanceof Error ? failed.reason.message : String(failed.reason)) : null;
  }

  private async refetchDirty(): Promise<void> {
    const dirty = new Set(this.dirty);
    this.dirty.clear();
    const jobs: Promise<unknown>[] = [];
    if (dirty.has('vms'))
      jobs.push(
        this.engine.listVms().then((v) => {
          this.vms = v;
        }),
      );
    if (dirty.has('images')) {
      jobs.push(
        this.engine.listImages().then((v) => {
          this.images = v;
        }),
      );
      jobs.push(
        this.engine.listKernels().then((v) => {
          this.kernels = v;
        }),
      );
    }
    if (dirty.has('dns'))
      jobs.push(
        this.engine.dnsRecords().then((v) => {
          this.dns = v;
        }),
      );
    if (dirty.has('status'))
      jobs.push(
        this.engine.status().then((v) => {
          this.status = v;
        }),
      );
    this.noteErrors(await Promise.allSettled(jobs));
    this.onChange(new Set<Topic>([...dirty] as Topic[]));
  }

  private mark(...t: ('vms' | 'images' | 'dns' | 'status')[]): void {
    for (const x of t) this.dirty.add(x);
    this.throttle.call();
  }

  onEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'vm': {
        const i = this.vms.findIndex((v) => v.id === e.vm.id);
        if (i >= 0) this.vms[i] = e.vm;
        else this.vms = [...this.vms, e.vm].sort((a, b) => a.name.localeCompare(b.name));
        this.onChange(new Set(['vms']));
        this.mark('vms', 'status', 'dns');
        return;
      }
      case 'vm-removed':
        this.vms = this.vms.filter((v) => v.id !== e.id);
        this.onChange(new Set(['vms']));
        this.mark('vms', 'status', 'dns');
        return;
      case 'image':
      case 'image-removed':
      case 'kernel':
      case 'kernel-removed':
        this.mark('images');
        return;
      case 'build':
        this.builds.set(e.build.id, e.build);
        this.onChange(new Set(['builds']));
        return;
      case 'build-log':
        this.appendBuildLog(e.buildId, e.chunk);
        this.onChange(new Set(['builds']));
        return;
      case 'dns':
        this.mark('dns', 'status');
        return;
      case 'log':
        this.log.push(e.line);
        if (this.log.length > MAX_LOG_LINES) this.log.splice(0, this.log.length - MAX_LOG_LINES);
        this.onChange(new Set(['log']));
        return;
      case 'metrics':
        this.metrics.add(e.host, e.vms);
        this.onChange(new Set(['metrics']));
        return;
    }
  }

  private appendBuildLog(id: string, chunk: string): void {
    const lines = this.buildLogs.get(id) ?? [];
    const text = (this.partialBuildLine.get(id) ?? '') + chunk;
    const parts = text.split(/\r?\n/);
    this.partialBuildLine.set(id, parts.pop() ?? '');
    lines.push(...parts);
    if (lines.length > MAX_BUILD_LOG_LINES) lines.splice(0, lines.length - MAX_BUILD_LOG_LINES);
    this.buildLogs.set(id, lines);
  }

  /** Build log lines including a partial last line. */
  buildLog(id: string): string[] {
    const partial = this.partialBuildLine.get(id);
    const lines = this.buildLogs.get(id) ?? [];
    return partial ? [...lines, partial] : lines;
  }

  vmByName(name: string | null): VmRecord | undefined {
    return name === null ? undefined : this.vms.find((v) => v.name === name);
  }
}
