// An in-memory EngineApi for screen tests and the bench: VMs in a Map, state transitions on
// timers, events on every change, a console that boots and echoes like a serial tty.
// It validates input like the real engine (BangerError codes) so error paths are exercised.
import { BangerError, ErrorCodes } from '../../app/errors.js';
import type {
  BuildProgress,
  DnsRecord,
  DoctorReport,
  EngineApi,
  EngineEvent,
  EngineStatus,
  EventRecord,
  HostSample,
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
  VmSample,
  VmState,
} from '../../app/engine/api.js';

export interface FakeEngineOptions {
  /** ms a start/stop takes. */
  transitionMs?: number;
  /** ms between build progress steps. */
  buildStepMs?: number;
  mode?: EngineStatus['mode'];
  /** Emit a 'metrics' event every this many ms (like the engine's sampler); off when unset. */
  metricsMs?: number;
}

const MIB = 1024 * 1024;
const METRICS_CAPACITY = 600;

const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;

export class FakeEngine implements EngineApi {
  readonly vms = new Map<string, VmRecord>();
  readonly images = new Map<string, ImageRecord>();
  readonly kernels = new Map<string, KernelRecord>();
  readonly builds = new Map<string, BuildProgress>();
  readonly consoles = new Map<string, Buffer[]>();
  readonly calls: string[] = [];
  private listeners = new Set<(e: EngineEvent) => void>();
  private consoleListeners = new Map<string, Set<(d: Buffer) => void>>();
  private log: string[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private nextIp = 2;
  private seq = 0;
  private readonly startedAt = new Date().toISOString();
  private metricsTimer: NodeJS.Timeout | null = null;
  private metricsTick = 0;
  private hostHistory: HostSample[] = [];
  private vmHistory = new Map<string, VmSample[]>();
  /** How often metrics() was called (the dashboard fetches one snapshot per show). */
  metricsCalls = 0;

  constructor(private readonly opts: FakeEngineOptions = {}) {
    const now = new Date().toISOString();
    this.images.set('busybox', {
      name: 'busybox',
      source: 'busybox',
      path: '/var/lib/banger/images/busybox.ext4',
      sizeBytes: 64 << 20,
      sha256: 'ab'.repeat(32),
      buildLog: null,
      createdAt: now,
    });
    this.kernels.set('default', {
      name: 'default',
      path: '/var/lib/banger/kernels/vmlinux',
      initrdPath: null,
      source: 'bundled',
      version: '6.1.0',
      createdAt: now,
    });
    this.logLine('engine started (fake)');
    if (opts.metricsMs) {
      this.metricsTimer = setInterval(() => this.sampleMetrics(), opts.metricsMs);
      this.metricsTimer.unref();
    }
  }

  /**
   * One metrics sample, emitted as the engine's sampler does: smooth waves per VM (so charts and
   * sparklines move), cumulative net counters, stopped VMs dropped with their history.
   */
  sampleMetrics(): { host: HostSample; vms: VmSample[] } {
    const k = ++this.metricsTick;
    const at = Date.now();
    const wave = (period: number, phase = 0) => (1 + Math.sin(k / period + phase)) / 2;
    const byState: Record<VmState, number> = { created: 0, starting: 0, running: 0, stopping: 0, stopped: 0, error: 0 };
    let committed = 0;
    const vms: VmSample[] = [];
    const list = [...this.vms.values()].sort((a, b) => a.name.localeCompare(b.name));
    list.forEach((vm, i) => {
      byState[vm.state]++;
      if (vm.state !== 'running') {
        this.vmHistory.delete(vm.id);
        return;
      }
      committed += vm.memoryMib * MIB;
      const hist = this.vmHistory.get(vm.id) ?? [];
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
      if (hist.length > METRICS_CAPACITY) hist.shift();
      this.vmHistory.set(vm.id, hist);
      vms.push(s);
    });
    const live = new Set(vms.map((s) => s.vmId));
    for (const id of [...this.vmHistory.keys()]) if (!live.has(id)) this.vmHistory.delete(id);
    const host: HostSample = {
      at,
      cpuPct: 8 + 50 * wave(7),
      memTotalBytes: 16384 * MIB,
      memUsedBytes: Math.round((5000 + 3000 * wave(11)) * MIB),
      memCommittedBytes: committed,
      vmsByState: byState,
      dnsQps: { vm: 4 + 6 * wave(6), forwarded: 2 * wave(8, 2), nxdomain: k % 5 === 0 ? 1 : 0 },
    };
    this.hostHistory.push(host);
    if (this.hostHistory.length > METRICS_CAPACITY) this.hostHistory.shift();
    this.emit({ type: 'metrics', host, vms });
    return { host, vms };
  }

  // --- helpers -------------------------------------------------------------
  private emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }
  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
  private logLine(msg: string): void {
    const line = `${new Date().toISOString()} INFO ${msg}`;
    this.log.push(line);
    this.emit({ type: 'log', line });
  }
  private need(name: string): VmRecord {
    const vm = this.vms.get(name);
    if (!vm) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named ${name}`);
    return vm;
  }
  private update(vm: VmRecord, patch: Partial<VmRecord>): VmRecord {
    const next = { ...vm, ...patch, updatedAt: new Date().toISOString() };
    this.vms.set(vm.name, next);
    this.emit({ type: 'vm', vm: next });
    return next;
  }
  private consoleOut(name: string, text: string): void {
    const buf = Buffer.from(text);
    const chunks = this.consoles.get(name) ?? [];
    chunks.push(buf);
    this.consoles.set(name, chunks);
    for (const l of this.consoleListeners.get(name) ?? []) l(buf);
  }
  private get ms(): number {
    return this.opts.transitionMs ?? 300;
  }

  /** Add `n` VMs directly (bench, big tables). */
  seed(n: number, state: VmState = 'running'): void {
    for (let i = 0; i < n; i++) {
      const name = `vm-${String(i).padStart(4, '0')}`;
      const now = new Date().toISOString();
      this.vms.set(name, {
        id: `id-${i}`,
        name,
        backend: i % 3 ? 'firecracker' : 'qemu',
        image: 'busybox',
        kernel: 'default',
        vcpus: 1 + (i % 4),
        memoryMib: 128 << (i % 3),
        diskBytes: 1 << 30,
        bootArgs: '',
        mac: '02:00:00:00:00:01',
        ip: state === 'running' ? `172.30.${(i >> 8) & 255}.${i & 255}` : null,
        state,
        pid: state === 'running' ? 1000 + i : null,
        socketPath: null,
        tap: null,
        createdAt: now,
        updatedAt: now,
        startedAt: state === 'running' ? now : null,
        stoppedAt: null,
        lastError: null,
        exitCode: null,
        exitSignal: null,
      });
    }
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.metricsTimer = null;
  }

  // --- EngineApi -------------------------------------------------------------
  async status(): Promise<EngineStatus> {
    const counts: Record<VmState, number> = { created: 0, starting: 0, running: 0, stopping: 0, stopped: 0, error: 0 };
    for (const v of this.vms.values()) counts[v.state]++;
    const records = (await this.dnsRecords()).length;
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      uptimeSec: Math.floor((Date.now() - Date.parse(this.startedAt)) / 1000),
      buildId: 'fake',
      mode: this.opts.mode ?? 'embedded',
      controlSocket: null,
      stateDir: '/tmp/banger-fake',
      dns: {
        zone: 'vm.',
        records,
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
    this.calls.push(`create ${input.name}`);
    if (!NAME_RE.test(input.name))
      throw new BangerError(
        ErrorCodes.INVALID_NAME,
        `invalid VM name "${input.name}": use a-z, 0-9 and -, starting with a letter`,
      );
    if (this.vms.has(input.name))
      throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named ${input.name} already exists`);
    if (input.image && !this.images.has(input.image))
      throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `no image named ${input.image}`);
    if (input.kernel && !this.kernels.has(input.kernel))
      throw new BangerError(ErrorCodes.UNKNOWN_KERNEL, `no kernel named ${input.kernel}`);
    const vcpus = input.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 32)
      throw new BangerError(ErrorCodes.INVALID_VCPUS, `vCPUs must be 1-32, got ${input.vcpus}`);
    const mem = input.memoryMib ?? 256;
    if (!Number.isInteger(mem) || mem < 64)
      throw new BangerError(ErrorCodes.INVALID_MEMORY, `memory must be at least 64 MiB, got ${input.memoryMib}`);
    const now = new Date().toISOString();
    const vm: VmRecord = {
      id: `vm-${++this.seq}`,
      name: input.name,
      backend: (input.backend as VmRecord['backend']) ?? 'firecracker',
      image: input.image ?? 'busybox',
      kernel: input.kernel ?? 'default',
      vcpus,
      memoryMib: mem,
      diskBytes: typeof input.disk === 'number' ? input.disk : 1 << 30,
      bootArgs: input.bootArgs ?? '',
      mac: `02:fc:00:00:00:${this.seq.toString(16).padStart(2, '0')}`,
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
    this.logLine(`created vm ${vm.name}`);
    return vm;
  }

  async startVm(name: string): Promise<VmRecord> {
    this.calls.push(`start ${name}`);
    const vm = this.need(name);
    if (vm.state === 'running' || vm.state === 'starting')
      throw new BangerError(ErrorCodes.INVALID_STATE, `${name} is already ${vm.state}`);
    const starting = this.update(vm, { state: 'starting', lastError: null });
    this.consoleOut(name, `\x1b[1mbanger fake firmware\x1b[0m booting ${name}...\r\n`);
    await new Promise((r) => this.later(this.ms, () => r(undefined)));
    const ip = vm.ip ?? `172.30.0.${this.nextIp++}`;
    const running = this.update(starting, {
      state: 'running',
      ip,
      pid: 40000 + this.seq,
      startedAt: new Date().toISOString(),
      tap: `tap-${name}`,
    });
    this.consoleOut(
      name,
      `[    0.000000] Linux version 6.1.0 (fake)\r\n[    0.120000] \x1b[32mOK\x1b[0m eth0 up ${ip}\r\nWelcome to ${name}\r\n${name} login: root (automatic)\r\n# `,
    );
    this.emit({ type: 'dns', records: (await this.dnsRecords()).length });
    this.logLine(`started vm ${name}`);
    return running;
  }

  async stopVm(name: string, _opts?: StopOptions): Promise<VmRecord> {
    this.calls.push(`stop ${name}`);
    const vm = this.need(name);
    if (vm.state !== 'running') throw new BangerError(ErrorCodes.INVALID_STATE, `${name} is not running (${vm.state})`);
    const stopping = this.update(vm, { state: 'stopping' });
    await new Promise((r) => this.later(this.ms, () => r(undefined)));
    this.consoleOut(name, '\r\nreboot: Power down\r\n');
    const stopped = this.update(stopping, {
      state: 'stopped',
      pid: null,
      stoppedAt: new Date().toISOString(),
      exitCode: 0,
    });
    this.emit({ type: 'dns', records: (await this.dnsRecords()).length });
    this.logLine(`stopped vm ${name}`);
    return stopped;
  }

  async restartVm(name: string): Promise<VmRecord> {
    const vm = this.need(name);
    if (vm.state === 'running') await this.stopVm(name);
    return this.startVm(name);
  }

  async removeVm(name: string, opts?: { force?: boolean }): Promise<void> {
    this.calls.push(`remove ${name}`);
    const vm = this.need(name);
    if ((vm.state === 'running' || vm.state === 'starting') && !opts?.force)
      throw new BangerError(ErrorCodes.INVALID_STATE, `${name} is ${vm.state}: stop it first`);
    this.vms.delete(name);
    this.consoles.delete(name);
    this.emit({ type: 'vm-removed', id: vm.id, name });
    this.logLine(`removed vm ${name}`);
  }

  async sshInfo(name: string): Promise<SshInfo> {
    const vm = this.need(name);
    if (!vm.ip) throw new BangerError(ErrorCodes.INVALID_STATE, `${name} has no IP`);
    return {
      ip: vm.ip,
      user: 'root',
      keyPath: '/dev/null',
      knownHostsPath: '/dev/null',
      argv: ['ssh', `root@${vm.ip}`],
    };
  }

  async consoleTail(name: string, maxBytes = 65536): Promise<Buffer> {
    this.need(name);
    const all = Buffer.concat(this.consoles.get(name) ?? []);
    return all.subarray(Math.max(0, all.length - maxBytes));
  }

  async subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe> {
    this.need(name);
    const set = this.consoleListeners.get(name) ?? new Set();
    set.add(onData);
    this.consoleListeners.set(name, set);
    return () => {
      set.delete(onData);
    };
  }

  /** A tty in cooked mode: echo, and on CR answer like a tiny shell. */
  private lineBuf = new Map<string, string>();
  async sendConsole(name: string, data: Buffer | string): Promise<void> {
    const vm = this.need(name);
    if (vm.state !== 'running') throw new BangerError(ErrorCodes.INVALID_STATE, `${name} is not running`);
    const text = typeof data === 'string' ? data : data.toString('utf8');
    for (const ch of text) {
      if (ch === '\r' || ch === '\n') {
        const line = this.lineBuf.get(name) ?? '';
        this.lineBuf.set(name, '');
        const reply = line.startsWith('echo ') ? `${line.slice(5)}\r\n` : line ? `sh: ${line}: not found\r\n` : '';
        this.consoleOut(name, `\r\n${reply}# `);
      } else if (ch === '\x7f') {
        const line = this.lineBuf.get(name) ?? '';
        if (line) {
          this.lineBuf.set(name, line.slice(0, -1));
          this.consoleOut(name, '\b \b');
        }
      } else {
        this.lineBuf.set(name, (this.lineBuf.get(name) ?? '') + ch);
        this.consoleOut(name, ch);
      }
    }
  }

  async listImages(): Promise<ImageRecord[]> {
    return [...this.images.values()];
  }

  async buildImage(input: ImageBuildInput): Promise<ImageRecord> {
    if (!NAME_RE.test(input.name)) throw new BangerError(ErrorCodes.INVALID_NAME, `invalid image name "${input.name}"`);
    if (this.images.has(input.name))
      throw new BangerError(ErrorCodes.NAME_TAKEN, `an image named ${input.name} already exists`);
    if (!['busybox', 'debian:bookworm'].includes(input.from))
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `unknown source ${input.from}`);
    const id = `build-${++this.seq}`;
    const phases = ['fetch', 'rootfs', 'packages', 'mkfs', 'done'];
    const b: BuildProgress = {
      id,
      kind: 'image',
      name: input.name,
      phase: 'queued',
      percent: 0,
      state: 'running',
      error: null,
      logPath: null,
    };
    this.builds.set(id, b);
    this.emit({ type: 'build', build: b });
    for (let i = 0; i < phases.length; i++) {
      await new Promise((r) => this.later(this.opts.buildStepMs ?? 150, () => r(undefined)));
      const done = i === phases.length - 1;
      const next: BuildProgress = {
        ...b,
        phase: phases[i]!,
        percent: Math.round(((i + 1) / phases.length) * 100),
        state: done ? 'done' : 'running',
      };
      this.builds.set(id, next);
      this.emit({
        type: 'build-log',
        buildId: id,
        chunk: `[${phases[i]}] step ${i + 1}/${phases.length} for ${input.name}\n`,
      });
      this.emit({ type: 'build', build: next });
    }
    const img: ImageRecord = {
      name: input.name,
      source: input.from,
      path: `/var/lib/banger/images/${input.name}.ext4`,
      sizeBytes: 256 << 20,
      sha256: 'cd'.repeat(32),
      buildLog: null,
      createdAt: new Date().toISOString(),
    };
    this.images.set(img.name, img);
    this.emit({ type: 'image', image: img });
    return img;
  }
  async importImage(input: ImageImportInput): Promise<ImageRecord> {
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `import of ${input.name} is not supported by the fake`);
  }
  async removeImage(name: string): Promise<void> {
    if (!this.images.delete(name)) throw new BangerError(ErrorCodes.NOT_FOUND, `no image named ${name}`);
    this.emit({ type: 'image-removed', name });
  }
  async listBuilds(): Promise<BuildProgress[]> {
    return [...this.builds.values()];
  }
  async cancelBuild(id: string): Promise<void> {
    if (!this.builds.has(id)) throw new BangerError(ErrorCodes.NOT_FOUND, `no build ${id}`);
  }

  async listKernels(): Promise<KernelRecord[]> {
    return [...this.kernels.values()];
  }
  async addKernel(input: KernelAddInput): Promise<KernelRecord> {
    const k: KernelRecord = {
      name: input.name,
      path: input.path,
      initrdPath: input.initrd ?? null,
      source: 'file',
      version: null,
      createdAt: new Date().toISOString(),
    };
    this.kernels.set(k.name, k);
    this.emit({ type: 'kernel', kernel: k });
    return k;
  }
  async fetchKernel(name: string): Promise<KernelRecord> {
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `fetch ${name}: not in the fake`);
  }
  async buildKernel(name: string): Promise<KernelRecord> {
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `build ${name}: not in the fake`);
  }
  async removeKernel(name: string): Promise<void> {
    this.kernels.delete(name);
    this.emit({ type: 'kernel-removed', name });
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
    return { adopted: [], stopped: [], orphansRemoved: [] };
  }
  async metrics(): Promise<MetricsSnapshot> {
    this.metricsCalls++;
    return { host: [...this.hostHistory], vms: Object.fromEntries([...this.vmHistory].map(([id, h]) => [id, [...h]])) };
  }

  subscribe(listener: (e: EngineEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async shutdown(opts?: { stopVms?: boolean }): Promise<void> {
    this.calls.push(`shutdown stopVms=${!!opts?.stopVms}`);
    this.dispose();
  }
}
