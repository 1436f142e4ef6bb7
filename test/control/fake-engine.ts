// A test double for the ENGINE (not for the protocol under test): VMs in memory, real
// events, a console per VM that echoes what is sent to it, like a tty would.
import type {
  BuildProgress,
  DnsRecord,
  DoctorReport,
  EngineApi,
  EngineEvent,
  EngineStatus,
  EventRecord,
  ImageBuildInput,
  ImageImportInput,
  ImageRecord,
  KernelAddInput,
  KernelRecord,
  MetricsSnapshot,
  ReconcileReport,
  SshInfo,
  StopOptions,
  Unsubscribe,
  VmCreateInput,
  VmRecord,
} from '../../app/engine/api.js';
import { BangerError, ErrorCodes } from '../../app/errors.js';

const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;

export class FakeEngine implements EngineApi {
  readonly vms = new Map<string, VmRecord>();
  readonly consoles = new Map<string, Buffer>();
  readonly sent: { name: string; data: Buffer }[] = [];
  readonly calls: { method: string; args: unknown[] }[] = [];
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly consoleListeners = new Map<string, Set<(d: Buffer) => void>>();
  private seq = 0;
  shutdownCalls = 0;
  onShutdown?: () => Promise<void>;

  get listenerCount(): number {
    return this.listeners.size;
  }
  consoleListenerCount(name: string): number {
    return this.consoleListeners.get(name)?.size ?? 0;
  }

  emit(e: EngineEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /** Bytes "from the guest" to every console subscriber. */
  guestWrites(name: string, data: Buffer): void {
    this.consoles.set(name, Buffer.concat([this.consoles.get(name) ?? Buffer.alloc(0), data]));
    for (const l of [...(this.consoleListeners.get(name) ?? [])]) l(data);
  }

  private vm(name: string): VmRecord {
    const vm = this.vms.get(name);
    if (!vm) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named ${name}`, { details: { name } });
    return vm;
  }

  private setState(vm: VmRecord, state: VmRecord['state']): VmRecord {
    const next = { ...vm, state, updatedAt: new Date().toISOString() };
    this.vms.set(vm.name, next);
    this.emit({ type: 'vm', vm: next });
    return next;
  }

  async status(): Promise<EngineStatus> {
    const vms = { created: 0, starting: 0, running: 0, stopping: 0, stopped: 0, error: 0, total: this.vms.size };
    for (const v of this.vms.values()) vms[v.state]++;
    return {
      pid: process.pid,
      startedAt: new Date(0).toISOString(),
      uptimeSec: 1,
      buildId: 'fake',
      mode: 'detached',
      controlSocket: null,
      stateDir: '/nonexistent',
      dns: { zone: 'vm.', records: 0, listeners: [] },
      vms,
      backends: [{ name: 'firecracker', available: true, reason: '' }],
      defaultBackend: 'firecracker',
    };
  }
  async doctor(): Promise<DoctorReport> {
    throw new Error('doctor blew up'); // a plain Error: must reach the client as E_INTERNAL
  }
  async listVms(): Promise<VmRecord[]> {
    return [...this.vms.values()];
  }
  async getVm(name: string): Promise<VmRecord> {
    return this.vm(name);
  }
  async createVm(input: VmCreateInput): Promise<VmRecord> {
    this.calls.push({ method: 'createVm', args: [input] });
    if (typeof input?.name !== 'string' || !NAME_RE.test(input.name)) {
      throw new BangerError(ErrorCodes.INVALID_NAME, `invalid VM name: ${JSON.stringify(input?.name)}`, {
        details: { name: input?.name },
      });
    }
    if (this.vms.has(input.name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named ${input.name} exists`);
    const now = new Date().toISOString();
    const vm: VmRecord = {
      id: `vm-${++this.seq}`,
      name: input.name,
      backend: 'firecracker',
      image: input.image ?? null,
      kernel: null,
      vcpus: input.vcpus ?? 1,
      memoryMib: input.memoryMib ?? 256,
      diskBytes: 1 << 30,
      bootArgs: input.bootArgs ?? '',
      mac: '02:00:00:00:00:01',
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
    };
    this.vms.set(vm.name, vm);
    this.emit({ type: 'vm', vm });
    return input.start ? this.startVm(vm.name) : vm;
  }
  async startVm(name: string): Promise<VmRecord> {
    return this.setState(this.vm(name), 'running');
  }
  async stopVm(name: string, opts?: StopOptions): Promise<VmRecord> {
    this.calls.push({ method: 'stopVm', args: [name, opts] });
    return this.setState(this.vm(name), 'stopped');
  }
  async restartVm(name: string): Promise<VmRecord> {
    return this.setState(this.vm(name), 'running');
  }
  async removeVm(name: string, opts?: { force?: boolean }): Promise<void> {
    const vm = this.vm(name);
    if (vm.state === 'running' && !opts?.force) throw new BangerError(ErrorCodes.INVALID_STATE, `${name} is running`);
    this.vms.delete(name);
    this.emit({ type: 'vm-removed', id: vm.id, name });
  }
  async sshInfo(name: string): Promise<SshInfo> {
    this.vm(name);
    return { ip: '10.0.0.2', user: 'root', keyPath: '/k', knownHostsPath: '/kh', argv: ['ssh', 'root@10.0.0.2'] };
  }
  async consoleTail(name: string, maxBytes = 65536): Promise<Buffer> {
    this.vm(name);
    const all = this.consoles.get(name) ?? Buffer.alloc(0);
    return all.subarray(Math.max(0, all.length - maxBytes));
  }
  async subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe> {
    this.vm(name);
    await new Promise((r) => setTimeout(r, 5)); // setting up takes a moment, as in the engine
    let set = this.consoleListeners.get(name);
    if (!set) this.consoleListeners.set(name, (set = new Set()));
    set.add(onData);
    return () => {
      set!.delete(onData);
    };
  }
  async sendConsole(name: string, data: Buffer | string): Promise<void> {
    this.vm(name);
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.sent.push({ name, data: buf });
    this.guestWrites(name, buf); // echo
  }
  async listImages(): Promise<ImageRecord[]> {
    return [];
  }
  async buildImage(input: ImageBuildInput): Promise<ImageRecord> {
    return {
      name: input.name,
      source: input.from,
      path: '/i',
      sizeBytes: 1,
      sha256: 'x',
      buildLog: null,
      createdAt: 'now',
    };
  }
  async importImage(input: ImageImportInput): Promise<ImageRecord> {
    return {
      name: input.name,
      source: input.path,
      path: input.path,
      sizeBytes: 1,
      sha256: 'x',
      buildLog: null,
      createdAt: 'now',
    };
  }
  async removeImage(name: string): Promise<void> {
    throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `no image ${name}`);
  }
  async listBuilds(): Promise<BuildProgress[]> {
    return [];
  }
  async cancelBuild(_id: string): Promise<void> {}
  async listKernels(): Promise<KernelRecord[]> {
    return [];
  }
  async addKernel(input: KernelAddInput): Promise<KernelRecord> {
    return {
      name: input.name,
      path: input.path,
      initrdPath: input.initrd ?? null,
      source: 'file',
      version: null,
      createdAt: 'now',
    };
  }
  async fetchKernel(name: string): Promise<KernelRecord> {
    return this.addKernel({ name, path: '/k' });
  }
  async buildKernel(name: string): Promise<KernelRecord> {
    return this.addKernel({ name, path: '/k' });
  }
  async removeKernel(_name: string): Promise<void> {}
  async dnsRecords(): Promise<DnsRecord[]> {
    return [...this.vms.values()].map((v) => ({
      name: `${v.name}.vm.`,
      type: 'A' as const,
      value: '10.0.0.2',
      ttl: 5,
      vm: v.name,
    }));
  }
  async events(limit = 10): Promise<EventRecord[]> {
    return Array.from({ length: limit }, (_, i) => ({
      id: i + 1,
      at: 'now',
      kind: 'k',
      subject: 's',
      message: `m${i}`,
    }));
  }
  async engineLog(lines = 3): Promise<string[]> {
    return Array.from({ length: lines }, (_, i) => `line ${i}`);
  }
  async reconcile(): Promise<ReconcileReport> {
    return { adopted: ['a'], stopped: [], orphansRemoved: [] };
  }
  async metrics(): Promise<MetricsSnapshot> {
    return { host: [], vms: {} };
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
    await this.onShutdown?.();
  }
}
