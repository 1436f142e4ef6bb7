// The one in-memory EngineApi for tests (control protocol, TUI, bench): VMs in a Map, state
// transitions on timers, events on every change, a console per VM. Input is checked with the
// engine's own validators and state rules, so the fake cannot drift from the real name rule.
import type {
  DnsRecord,
  DoctorReport,
  EngineApi,
  EngineEvent,
  EngineStatus,
  EventRecord,
  ImageBuildInput,
  ImageFromVmInput,
  ImageImportInput,
  ImageRecord,
  KernelAddInput,
  KernelRecord,
  MetricsSnapshot,
  ReconcileReport,
  SnapshotRecord,
  SshInfo,
  StopOptions,
  Unsubscribe,
  VmCreateInput,
  VmRecord,
  VmState,
  BuildProgress,
} from '../../app/contract/api.js';
import { VM_STATES, LIVE_STATES } from '../../app/contract/api.js';
import { validateBackend, validateName, validateVcpus } from '../../app/contract/vm-spec.js';
import { BangerError, ErrorCodes } from '../../app/base/errors.js';
import { planMounts, withoutMount } from '../../app/contract/mounts.js';
import { hostDirCheck } from '../../app/engine/vm/mounts.js';
import { matchesKey, parsePortKey, parsePortSpec, parsePortSpecs, portsClash } from '../../app/contract/port-spec.js';
import { vmRecord } from './builders.js';
import { FakeArtifacts } from './fake-artifacts.js';
import { FakeConsole, type EchoMode } from './fake-console.js';
import { FakeMetrics } from './fake-metrics.js';
import { FakeSnapshots } from './fake-snapshots.js';

export interface FakeEngineOptions {
  /** ms a start/stop takes (default 300; 0 for protocol tests). */
  transitionMs?: number;
  /** ms between build progress steps. */
  buildStepMs?: number;
  mode?: EngineStatus['mode'];
  /** Emit a 'metrics' event every this many ms (like the engine's sampler); off when unset. */
  metricsMs?: number;
  /** tty: a cooked-mode shell that echoes and answers lines; raw: every byte echoed as sent. */
  echo?: EchoMode;
}

export class FakeEngine implements EngineApi {
  readonly vms = new Map<string, VmRecord>();
  /** Every mutating call, with its arguments, in order. */
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly artifacts: FakeArtifacts;
  readonly console: FakeConsole;
  readonly snapshots: FakeSnapshots;
  /** What reconcile() answers. */
  reconcileReport: ReconcileReport = { adopted: [], stopped: [], orphansRemoved: [] };
  shutdownCalls = 0;
  onShutdown?: () => Promise<void>;
  /** How often metrics() was called (the dashboard fetches one snapshot per show). */
  metricsCalls = 0;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly metricsGen = new FakeMetrics();
  private readonly log: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startedAt = new Date().toISOString();
  private metricsTimer: NodeJS.Timeout | null = null;
  private nextIp = 2;
  private seq = 0;

  constructor(private readonly opts: FakeEngineOptions = {}) {
    const wait = (ms: number) => new Promise<void>((r) => this.later(ms, r));
    this.artifacts = new FakeArtifacts((e) => this.emit(e), wait, opts.buildStepMs ?? 150);
    this.console = new FakeConsole(opts.echo ?? 'tty');
    this.snapshots = new FakeSnapshots({
      need: (n) => this.need(n),
      update: (vm, patch) => this.update(vm, patch),
      requireState: (vm, ok, what) => this.requireState(vm, ok, what),
      call: (method, args) => this.calls.push({ method, args }),
      emit: (e) => this.emit(e),
    });
    this.logLine('engine started (fake)');
    if (opts.metricsMs) {
      this.metricsTimer = setInterval(() => this.sampleMetrics(), opts.metricsMs);
      this.metricsTimer.unref();
    }
  }

  get images(): Map<string, ImageRecord> {
    return this.artifacts.images;
  }
  get kernels(): Map<string, KernelRecord> {
    return this.artifacts.kernels;
  }
  get builds(): Map<string, BuildProgress> {
    return this.artifacts.builds;
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
  consoleListenerCount(name: string): number {
    return this.console.listenerCount(name);
  }
  /** What was sent to consoles, in order. */
  get sent(): { name: string; data: Buffer }[] {
    return this.console.sent;
  }

  emit(e: EngineEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /** Bytes "from the guest" to every console subscriber of that VM. */
  guestWrites(name: string, data: Buffer | string): void {
    this.console.out(name, data);
  }

  /** One metrics sample, emitted as the engine's sampler does. */
  sampleMetrics(): ReturnType<FakeMetrics['sample']> {
    const s = this.metricsGen.sample([...this.vms.values()]);
    this.emit({ type: 'metrics', ...s });
    return s;
  }

  /** Add `n` VMs directly (bench, big tables). */
  seed(n: number, state: VmState = 'running'): void {
    for (let i = 0; i < n; i++) {
      const name = `vm-${String(i).padStart(4, '0')}`;
      const running = state === 'running';
      this.vms.set(name, {
        ...this.record(name, `id-${i}`),
        backend: i % 3 ? 'firecracker' : 'qemu',
        vcpus: 1 + (i % 4),
        memoryMib: 128 << (i % 3),
        ip: running ? `172.30.${(i >> 8) & 255}.${i & 255}` : null,
        state,
        pid: running ? 1000 + i : null,
        startedAt: running ? new Date().toISOString() : null,
      });
    }
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.metricsTimer = null;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
  private transition(): Promise<void> {
    const ms = this.opts.transitionMs ?? 300;
    return ms > 0 ? new Promise((r) => this.later(ms, r)) : Promise.resolve();
  }
  private logLine(msg: string): void {
    const line = `${new Date().toISOString()} INFO ${msg}`;
    this.log.push(line);
    this.emit({ type: 'log', line });
  }
  private need(name: string): VmRecord {
    const vm = this.vms.get(name);
    if (!vm) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named ${name}`, { details: { name } });
    return vm;
  }
  private requireState(vm: VmRecord, ok: readonly VmState[], what: string): void {
    if (!ok.includes(vm.state))
      throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is ${vm.state}: cannot ${what}`);
  }
  private update(vm: VmRecord, patch: Partial<VmRecord>): VmRecord {
    const next = { ...vm, ...patch, updatedAt: new Date().toISOString() };
    this.vms.set(vm.name, next);
    this.emit({ type: 'vm', vm: next });
    return next;
  }
  private record(name: string, id: string): VmRecord {
    const mac = `02:fc:00:00:00:${(this.seq & 255).toString(16).padStart(2, '0')}`;
    return vmRecord({ id, name, image: 'busybox', kernel: 'default', mac });
  }

  // --- EngineApi ----------------------------------------------------------------------------
  async status(): Promise<EngineStatus> {
    const counts = Object.fromEntries(VM_STATES.map((st) => [st, 0])) as Record<VmState, number>;
    for (const v of this.vms.values()) counts[v.state]++;
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      uptimeSec: Math.floor((Date.now() - Date.parse(this.startedAt)) / 1000),
      buildId: 'fake',
      mode: this.opts.mode ?? 'embedded',
      controlSocket: null,
      stateDir: '/nonexistent/banger-fake',
      dns: {
        zone: 'vm.',
        records: (await this.dnsRecords()).length,
        listeners: [
          { address: '127.0.0.1', port: 5353, protocols: ['udp', 'tcp'], up: true, error: null, forwards: false },
        ],
      },
      vms: { ...counts, total: this.vms.size },
      backends: [
        { name: 'firecracker', available: true, reason: 'fake' },
        { name: 'qemu', available: true, reason: 'fake' },
      ],
      defaultBackend: 'firecracker',
    };
  }
  async doctor(): Promise<DoctorReport> {
    return { checks: [{ name: 'fake', ok: true, detail: 'in-memory engine' }], defaultBackend: 'firecracker' };
  }
  async listVms(): Promise<VmRecord[]> {
    return [...this.vms.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  async getVm(name: string): Promise<VmRecord> {
    return this.need(name);
  }

  async createVm(input: VmCreateInput): Promise<VmRecord> {
    this.calls.push({ method: 'createVm', args: [input] });
    const name = (() => {
      try {
        return validateName(input?.name);
      } catch (err) {
        throw new BangerError(ErrorCodes.INVALID_NAME, (err as Error).message, { details: { name: input?.name } });
      }
    })();
    if (this.vms.has(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named ${name} already exists`);
    if (input.image && !this.images.has(input.image))
      throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `no image named ${input.image}`);
    if (input.kernel && !this.kernels.has(input.kernel))
      throw new BangerError(ErrorCodes.UNKNOWN_KERNEL, `no kernel named ${input.kernel}`);
    const ports = parsePortSpecs(input.publish);
    const mem = input.memoryMib ?? 256;
    if (!Number.isInteger(mem) || mem < 64)
      throw new BangerError(ErrorCodes.INVALID_MEMORY, `memory must be at least 64 MiB, got ${input.memoryMib}`);
    const vm: VmRecord = {
      ...this.record(name, `vm-${++this.seq}`),
      backend: input.backend === undefined ? 'firecracker' : validateBackend(input.backend),
      image: input.image ?? 'busybox',
      kernel: input.kernel ?? 'default',
      vcpus: validateVcpus(input.vcpus ?? 1),
      memoryMib: mem,
      diskBytes: typeof input.disk === 'number' ? input.disk : 1 << 30,
      bootArgs: input.bootArgs ?? '',
      ...(input.mounts?.length ? { mounts: planMounts([], input.mounts, null, hostDirCheck) } : {}),
      ports,
    };
    this.vms.set(vm.name, vm);
    this.emit({ type: 'vm', vm });
    this.logLine(`created vm ${vm.name}`);
    return input.start ? this.startVm(vm.name) : vm;
  }

  async startVm(name: string): Promise<VmRecord> {
    this.calls.push({ method: 'startVm', args: [name] });
    const vm = this.need(name);
    this.requireState(vm, ['created', 'stopped', 'error'], 'start');
    const starting = this.update(vm, { state: 'starting', lastError: null });
    this.console.boot(name);
    await this.transition();
    const ip = vm.ip ?? `172.30.0.${this.nextIp++}`;
    const startedAt = new Date().toISOString();
    const running = this.update(starting, {
      state: 'running',
      ip,
      pid: 40000 + this.seq,
      startedAt,
      tap: `tap-${name}`,
    });
    this.console.booted(name, ip);
    this.emit({ type: 'dns', records: (await this.dnsRecords()).length });
    this.logLine(`started vm ${name}`);
    return running;
  }

  async stopVm(name: string, opts?: StopOptions): Promise<VmRecord> {
    this.calls.push({ method: 'stopVm', args: [name, opts] });
    const vm = this.need(name);
    this.requireState(vm, opts?.save ? ['running', 'paused'] : ['running'], 'stop');
    const stopping = this.update(vm, { state: 'stopping' });
    await this.transition();
    this.console.out(name, '\r\nreboot: Power down\r\n');
    const stoppedAt = new Date().toISOString();
    const suspended = opts?.save ? fakeSuspend(vm) : null;
    const stopped = this.update(stopping, { state: 'stopped', pid: null, stoppedAt, exitCode: 0, suspended });
    this.emit({ type: 'dns', records: (await this.dnsRecords()).length });
    this.logLine(`stopped vm ${name}`);
    return stopped;
  }

  async restartVm(name: string): Promise<VmRecord> {
    if (this.need(name).state === 'running') await this.stopVm(name);
    return this.startVm(name);
  }

  async cloneVm(source: string, name: string): Promise<VmRecord> {
    this.calls.push({ method: 'cloneVm', args: [source, name] });
    const src = this.need(source);
    this.requireState(src, ['created', 'stopped', 'error'], 'clone');
    const n = validateName(name);
    if (this.vms.has(n)) throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named ${n} already exists`);
    const vm: VmRecord = { ...this.record(n, `vm-${++this.seq}`), ...pick(src), suspended: null };
    this.vms.set(vm.name, vm);
    this.emit({ type: 'vm', vm });
    return vm;
  }

  async addVmMount(name: string, spec: string): Promise<VmRecord> {
    this.calls.push({ method: 'addVmMount', args: [name, spec] });
    const vm = this.need(name);
    this.requireState(vm, ['created', 'stopped', 'error'], 'add a shared folder (stop it first)');
    return this.update(vm, { mounts: planMounts(vm.mounts ?? [], [spec], null, hostDirCheck) });
  }
  async removeVmMount(name: string, guestDir: string): Promise<VmRecord> {
    this.calls.push({ method: 'removeVmMount', args: [name, guestDir] });
    const vm = this.need(name);
    this.requireState(vm, ['created', 'stopped', 'error'], 'remove a shared folder (stop it first)');
    return this.update(vm, { mounts: withoutMount(vm.mounts ?? [], guestDir) });
  }
  async removeVm(name: string, opts?: { force?: boolean }): Promise<void> {
    this.calls.push({ method: 'removeVm', args: [name, opts] });
    const vm = this.need(name);
    if (!opts?.force) this.requireState(vm, ['created', 'stopped', 'error'], 'remove it (stop it first)');
    this.vms.delete(name);
    this.console.forget(name);
    this.emit({ type: 'vm-removed', id: vm.id, name });
    this.logLine(`removed vm ${name}`);
  }

  /** Published ports: the engine's grammar and clash rules, no sockets. */
  async addPort(name: string, spec: string): Promise<VmRecord> {
    this.calls.push({ method: 'addPort', args: [name, spec] });
    const vm = this.need(name);
    const p = parsePortSpec(spec);
    for (const other of this.vms.values())
      if ((other.ports ?? []).some((q) => portsClash(p, q)))
        throw new BangerError(ErrorCodes.PORT_TAKEN, `host port ${p.hostPort} is already published by ${other.name}`);
    return this.update(vm, { ports: [...(vm.ports ?? []), p] });
  }

  async removePort(name: string, key: string): Promise<VmRecord> {
    this.calls.push({ method: 'removePort', args: [name, key] });
    const vm = this.need(name);
    const k = parsePortKey(key);
    const keep = (vm.ports ?? []).filter((p) => !matchesKey(p, k));
    if (keep.length === (vm.ports ?? []).length)
      throw new BangerError(ErrorCodes.NOT_FOUND, `VM "${name}" publishes no port matching "${key}"`);
    return this.update(vm, { ports: keep });
  }

  async sshInfo(name: string): Promise<SshInfo> {
    const vm = this.need(name);
    if (!vm.ip) throw new BangerError(ErrorCodes.INVALID_STATE, `${name} has no IP`);
    const argv = ['ssh', `root@${vm.ip}`];
    return { ip: vm.ip, user: 'root', keyPath: '/dev/null', knownHostsPath: '/dev/null', argv };
  }

  pauseVm(name: string): Promise<VmRecord> {
    return this.snapshots.pause(name);
  }
  resumeVm(name: string): Promise<VmRecord> {
    return this.snapshots.resume(name);
  }
  snapshotVm(name: string, snap?: string): Promise<SnapshotRecord> {
    return this.snapshots.snapshot(name, snap);
  }
  listSnapshots(name: string): Promise<SnapshotRecord[]> {
    return this.snapshots.list(name);
  }
  restoreVm(name: string, snap: string): Promise<VmRecord> {
    return this.snapshots.restore(name, snap);
  }
  removeSnapshot(name: string, snap: string): Promise<void> {
    return this.snapshots.remove(name, snap);
  }
  imageFromVm(input: ImageFromVmInput): Promise<ImageRecord> {
    return this.snapshots.imageFromVm(input);
  }

  async consoleTail(name: string, maxBytes = 65536): Promise<Buffer> {
    this.need(name);
    return this.console.tail(name, maxBytes);
  }
  async subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe> {
    this.need(name);
    await new Promise((r) => setTimeout(r, 5)); // setting up takes a moment, as in the engine
    return this.console.subscribe(name, onData);
  }
  async sendConsole(name: string, data: Buffer | string): Promise<void> {
    this.requireState(this.need(name), LIVE_STATES, 'take console input');
    this.console.input(name, data);
  }

  async listImages(): Promise<ImageRecord[]> {
    return [...this.images.values()];
  }
  buildImage(input: ImageBuildInput): Promise<ImageRecord> {
    return this.artifacts.buildImage(input);
  }
  importImage(input: ImageImportInput): Promise<ImageRecord> {
    this.calls.push({ method: 'importImage', args: [input] });
    return this.artifacts.importImage(input);
  }
  removeImage(name: string): Promise<void> {
    this.calls.push({ method: 'removeImage', args: [name] });
    return this.artifacts.removeImage(name);
  }
  async listBuilds(): Promise<BuildProgress[]> {
    return [...this.builds.values()];
  }
  cancelBuild(id: string): Promise<void> {
    this.calls.push({ method: 'cancelBuild', args: [id] });
    return this.artifacts.cancelBuild(id);
  }
  async listKernels(): Promise<KernelRecord[]> {
    return [...this.kernels.values()];
  }
  addKernel(input: KernelAddInput): Promise<KernelRecord> {
    return this.artifacts.addKernel(input);
  }
  async fetchKernel(name: string): Promise<KernelRecord> {
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `fetch ${name}: not in the fake`);
  }
  async buildKernel(name: string): Promise<KernelRecord> {
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `build ${name}: not in the fake`);
  }
  removeKernel(name: string): Promise<void> {
    this.calls.push({ method: 'removeKernel', args: [name] });
    return this.artifacts.removeKernel(name);
  }

  async dnsRecords(): Promise<DnsRecord[]> {
    return [...this.vms.values()]
      .filter((v) => v.ip && v.state === 'running')
      .map((v) => ({ name: `${v.name}.vm.`, type: 'A' as const, value: v.ip!, ttl: 5, vm: v.name }));
  }
  async events(limit = 100): Promise<EventRecord[]> {
    return this.log.slice(-limit).map((l, i) => ({ id: i, at: l.slice(0, 24), kind: 'log', subject: '', message: l }));
  }
  async engineLog(lines = 200): Promise<string[]> {
    return this.log.slice(-lines);
  }
  async reconcile(): Promise<ReconcileReport> {
    return this.reconcileReport;
  }
  async metrics(): Promise<MetricsSnapshot> {
    this.metricsCalls++;
    return this.metricsGen.snapshot();
  }
  subscribe(listener: (e: EngineEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
  async shutdown(opts?: { stopVms?: boolean }): Promise<void> {
    this.shutdownCalls++;
    this.calls.push({ method: 'shutdown', args: [opts] });
    this.dispose();
    await this.onShutdown?.();
  }
}

/** What a clone keeps of its source. */
function pick(v: VmRecord): Partial<VmRecord> {
  return {
    backend: v.backend,
    image: v.image,
    kernel: v.kernel,
    vcpus: v.vcpus,
    memoryMib: v.memoryMib,
    diskBytes: v.diskBytes,
    bootArgs: v.bootArgs,
  };
}

function fakeSuspend(vm: VmRecord): NonNullable<VmRecord['suspended']> {
  const mark = { path: '/fake', size: 0, mtimeMs: 0, ino: 0 };
  return {
    at: new Date().toISOString(),
    sizeBytes: vm.memoryMib * 2 ** 20,
    stamp: { backend: vm.backend, version: 'fake', format: null },
    disk: mark,
    kernel: mark,
    image: vm.image,
    imageSha: null,
    memoryMib: vm.memoryMib,
    vcpus: vm.vcpus,
  };
}
