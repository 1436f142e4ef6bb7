// The engine: composes store, drivers, network, DNS, images, consoles and metrics, owns the
// VM lifecycle and emits events. The only layer with side effects on the host.
import type { SeedPort } from './vm/seed/build.js';
import { readLastLines } from '../base/fsutil.js';
import type {
  Backend,
  SettingOrigin,
  BuildProgress,
  DnsRecord,
  DnsStatus,
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
} from '../contract/api.js';
import { countByState, dnsRecordsOf, isActive, isLive } from '../contract/vm-facts.js';
import type { Config } from './config.js';
import type { Store } from './store.js';
import type { ProcessRunner } from '../base/process.js';
import type { VmDriver } from './driver/contract.js';
import type { ConsolePort, DnsPort, ImagesPort, MetricsPort, NetworkPort } from './ports.js';
import { EventBus } from './events.js';
import { BackendProbe } from './backend-probe.js';
import { lastSamples } from './metrics/last-samples.js';
import { createVm } from './vm/create.js';
import { VmLifecycle } from './vm/lifecycle.js';
import { reconcile } from './vm/reconcile.js';
import { Snapshots } from './snapshots/service.js';
import { Suspender } from './snapshots/suspend.js';
import { cloneVm } from './vm/clone.js';
import { addVmMount, removeVmMount } from './vm/mounts.js';
import { imageFromVm } from './snapshots/image-from-vm.js';
import { doctor } from './doctor.js';
import { sshInfoOf } from './vm/ssh-info.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { vmPaths, type Paths } from '../base/paths.js';
import type { Logger } from '../base/log.js';
import { nonDefaultSettings } from './settings-report.js';
import { PortForwards } from './ports/forwards.js';
import { addPort, removePort } from './ports/service.js';

export interface EngineParts {
  paths: Paths;
  config: Config;
  store: Store;
  runner: ProcessRunner;
  logger: Logger;
  bus?: EventBus;
  mode: 'embedded' | 'detached';
  buildId: string;
  drivers: Map<Backend, VmDriver>;
  network: NetworkPort | null;
  dns: DnsPort | null;
  console: ConsolePort | null;
  /** The seed drive builder (app/engine/vm/seed/); absent: no seed drive. */
  seed?: SeedPort | null;
  images: ImagesPort | null;
  metrics: MetricsPort | null;
  /** Called by shutdown() after the engine let go of everything (the service exits here). */
  onShutdown?: () => void;
  /** Where each non-default setting came from (status). */
  settingSources?: Partial<Record<keyof Config, SettingOrigin>>;
}

export class Engine implements EngineApi {
  readonly bus: EventBus;
  readonly vms: VmLifecycle;
  readonly snapshots: Snapshots;
  readonly suspender: Suspender;
  /** Published ports' listeners, open while their VMs run. */
  readonly forwards: PortForwards;
  private readonly startedAt = new Date();
  private readonly probe: BackendProbe;
  controlSocket: string | null = null;

  constructor(private readonly p: EngineParts) {
    this.bus = p.bus ?? new EventBus();
    this.probe = new BackendProbe(p.drivers, p.config.defaultBackend);
    this.forwards = new PortForwards({
      // Asked per connection: a VM that is not running (yet) refuses rather than misroutes.
      guestIp: (id) => {
        const vm = p.store.getVmById(id);
        return vm && isLive(vm.state) ? vm.ip : null;
      },
      logger: p.logger,
    });
    this.vms = new VmLifecycle({
      store: p.store,
      paths: p.paths,
      config: p.config,
      logger: p.logger,
      bus: this.bus,
      drivers: p.drivers,
      network: p.network,
      dns: p.dns,
      console: p.console,
      runner: p.runner,
      forwards: this.forwards,
      seed: p.seed ?? null,
    });
    // An exit the lifecycle could not record (disk full, database busy) is set right by a reconcile.
    this.vms.onReconcileNeeded = () => this.reconcile();
    const keep = {
      store: p.store,
      paths: p.paths,
      runner: p.runner,
      logger: p.logger,
      bus: this.bus,
      lifecycle: this.vms,
    };
    this.snapshots = new Snapshots(keep);
    this.suspender = new Suspender(keep);
    this.vms.resumer = (vm, restore) => this.suspender.resume(vm, restore);
  }

  /** Bring the engine up: DNS listener(s), then reconcile with what really runs. */
  async start(): Promise<ReconcileReport> {
    if (this.p.dns) {
      try {
        await this.p.dns.start();
      } catch (err) {
        this.p.logger.error('DNS failed to start', { err: String(err) });
      }
      await this.p.dns.assertWiredUp?.();
    }
    const report = await this.reconcile();
    // One engine per state dir: a build still recorded as running died with the previous one.
    const interrupted = this.p.store.endInterruptedBuilds();
    if (interrupted) this.p.logger.warn('builds interrupted by the previous engine marked failed', { interrupted });
    // Adopted VMs keep asking the gateway for names: bring its listener back with them.
    if (this.p.network && this.p.dns?.addGatewayListener && this.p.config.dnsGateway && report.adopted.length) {
      await this.p.dns
        .addGatewayListener(this.p.network.gatewayIp(), this.p.config.subnet)
        .catch((err) => this.p.logger.warn('guest DNS listener failed', { err: String(err) }));
    }
    this.p.metrics?.start();
    this.p.logger.info('engine started', { pid: process.pid, mode: this.p.mode, buildId: this.p.buildId });
    return report;
  }

  /** The backend a VM gets when none is named: firecracker when its binary is found, else qemu. */
  defaultBackend(): Promise<Backend> {
    return this.probe.defaultBackend();
  }

  async status(): Promise<EngineStatus> {
    const vms = this.p.store.listVms();
    const counts = countByState(vms);
    const backends = await this.probe.backends();
    return {
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      uptimeSec: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      buildId: this.p.buildId,
      mode: this.p.mode,
      controlSocket: this.controlSocket,
      stateDir: this.p.paths.stateDir,
      dns: this.dnsStatus(),
      vms: { ...counts, total: vms.length },
      backends,
      defaultBackend: await this.defaultBackend(),
      settings: nonDefaultSettings(this.p.config, this.p.settingSources ?? {}),
    };
  }

  private dnsStatus(): DnsStatus {
    return this.p.dns?.status() ?? { zone: this.p.config.dnsZone, records: 0, listeners: [] };
  }

  doctor(): Promise<DoctorReport> {
    return doctor({
      drivers: this.p.drivers,
      runner: this.p.runner,
      config: this.p.config,
      defaultBackend: () => this.defaultBackend(),
    });
  }

  // ---- VMs
  async listVms(): Promise<VmRecord[]> {
    return this.p.store.listVms();
  }
  async getVm(name: string): Promise<VmRecord> {
    return this.vms.get(name);
  }

  async createVm(input: VmCreateInput): Promise<VmRecord> {
    const vm = await createVm(
      {
        store: this.p.store,
        config: this.p.config,
        paths: this.p.paths,
        defaultBackend: await this.defaultBackend(),
        images: this.p.images,
      },
      input,
    );
    this.p.store.addEvent('vm', vm.name, 'created');
    this.bus.emit({ type: 'vm', vm });
    return input.start ? this.vms.start(vm.name) : vm;
  }

  startVm(name: string): Promise<VmRecord> {
    return this.vms.start(name);
  }
  stopVm(name: string, opts?: StopOptions): Promise<VmRecord> {
    if (opts?.save) return this.suspender.suspend(name);
    return this.vms.stop(name, opts);
  }
  cloneVm(source: string, name: string): Promise<VmRecord> {
    return cloneVm({ store: this.p.store, paths: this.p.paths, runner: this.p.runner, bus: this.bus }, source, name);
  }
  restartVm(name: string): Promise<VmRecord> {
    return this.vms.restart(name);
  }
  async addVmMount(name: string, spec: string): Promise<VmRecord> {
    return addVmMount({ store: this.p.store, bus: this.bus }, name, spec);
  }
  async removeVmMount(name: string, guestDir: string): Promise<VmRecord> {
    return removeVmMount({ store: this.p.store, bus: this.bus }, name, guestDir);
  }
  async removeVm(name: string, opts?: { force?: boolean }): Promise<void> {
    await this.vms.remove(name, opts);
  }

  addPort(name: string, spec: string): Promise<VmRecord> {
    return addPort({ store: this.p.store, lifecycle: this.vms, forwards: this.forwards }, name, spec);
  }
  removePort(name: string, key: string): Promise<VmRecord> {
    return removePort({ store: this.p.store, lifecycle: this.vms, forwards: this.forwards }, name, key);
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
  async listSnapshots(name: string): Promise<SnapshotRecord[]> {
    return this.snapshots.list(name);
  }
  async restoreVm(name: string, snap: string): Promise<VmRecord> {
    return this.suspender.afterRestore(await this.snapshots.restore(name, snap));
  }
  removeSnapshot(name: string, snap: string): Promise<void> {
    return this.snapshots.remove(name, snap);
  }

  async sshInfo(name: string): Promise<SshInfo> {
    return sshInfoOf(this.vms.get(name), this.p.images, this.p.paths);
  }

  // ---- consoles
  private requireConsole(): ConsolePort {
    if (!this.p.console) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'consoles are not available in this engine');
    return this.p.console;
  }

  async consoleTail(name: string, maxBytes = 64 * 1024): Promise<Buffer> {
    const vm = this.vms.get(name);
    return this.requireConsole().tail(vm.id, vmPaths(this.p.paths, vm.id).consoleLog, maxBytes);
  }

  async subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe> {
    const vm = this.vms.get(name);
    return this.requireConsole().subscribe(vm.id, onData);
  }

  async sendConsole(name: string, data: Buffer | string): Promise<void> {
    const vm = this.vms.get(name);
    // A paused guest's UART holds the bytes until it runs again.
    if (!isLive(vm.state))
      throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is ${vm.state}: its console takes no input`);
    await this.requireConsole().write(vm.id, Buffer.isBuffer(data) ? data : Buffer.from(data));
  }

  // ---- images and kernels
  private requireImages(): ImagesPort {
    if (!this.p.images)
      throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'image builds are not available in this engine');
    return this.p.images;
  }

  async listImages(): Promise<ImageRecord[]> {
    return this.p.store.listImages();
  }
  buildImage(input: ImageBuildInput): Promise<ImageRecord> {
    return this.requireImages().build(input);
  }
  importImage(input: ImageImportInput): Promise<ImageRecord> {
    return this.requireImages().import(input);
  }
  removeImage(name: string): Promise<void> {
    return this.requireImages().remove(name);
  }
  imageFromVm(input: ImageFromVmInput): Promise<ImageRecord> {
    return imageFromVm(this.requireImages(), this.vms, this.p.paths, input);
  }
  async listBuilds(): Promise<BuildProgress[]> {
    return this.p.images?.builds() ?? [];
  }
  async cancelBuild(id: string): Promise<void> {
    this.requireImages().cancel(id);
  }

  async listKernels(): Promise<KernelRecord[]> {
    return this.p.store.listKernels();
  }

  addKernel(input: KernelAddInput): Promise<KernelRecord> {
    return this.requireImages().addKernel(input);
  }
  fetchKernel(name: string): Promise<KernelRecord> {
    return this.requireImages().fetchKernel(name);
  }
  buildKernel(name: string): Promise<KernelRecord> {
    return this.requireImages().buildKernel(name);
  }
  removeKernel(name: string): Promise<void> {
    return this.requireImages().removeKernel(name);
  }

  // ---- DNS, events, logs, metrics
  async dnsRecords(): Promise<DnsRecord[]> {
    return dnsRecordsOf(this.p.store.listVms(), this.p.config.dnsZone);
  }

  async events(limit = 100): Promise<EventRecord[]> {
    return this.p.store.listEvents(limit);
  }

  async engineLog(lines = 200): Promise<string[]> {
    return readLastLines(this.p.paths.engineLog, lines);
  }

  async reconcile(): Promise<ReconcileReport> {
    const report = await reconcile({
      store: this.p.store,
      paths: this.p.paths,
      logger: this.p.logger,
      drivers: this.p.drivers,
      network: this.p.network,
      dns: this.p.dns,
      lifecycle: this.vms,
      runner: this.p.runner,
    });
    report.orphansRemoved.push(...this.snapshots.sweep(), ...this.suspender.sweep());
    return report;
  }

  async metrics(opts: { last?: number } = {}): Promise<MetricsSnapshot> {
    return lastSamples(this.p.metrics?.snapshot() ?? { host: [], vms: {} }, opts.last);
  }

  subscribe(listener: (e: EngineEvent) => void): Unsubscribe {
    return this.bus.subscribe(listener);
  }

  async shutdown(opts: { stopVms?: boolean; purge?: boolean } = {}): Promise<void> {
    const running = () => this.p.store.listVms().filter((vm) => isActive(vm.state));
    if (opts.purge && !opts.stopVms && running().length) {
      throw new BangerError(
        ErrorCodes.INVALID_STATE,
        `--purge removes the bridge the running VMs use (${running()
          .map((v) => v.name)
          .join(', ')}): add --stop-vms`,
      );
    }
    if (opts.stopVms) {
      await this.vms.idle(); // a VM mid-start is stopped too, once it is up
      await Promise.all(
        running()
          .filter((vm) => isLive(vm.state))
          .map((vm) =>
            this.vms.stop(vm.name).catch((err) => this.p.logger.error(`stop ${vm.name} failed`, { err: String(err) })),
          ),
      );
    }
    if (opts.purge) await this.p.network?.down();
    await this.close();
    this.p.onShutdown?.();
  }

  /** The engine's log, for the service around it. */
  get logger(): Logger {
    return this.p.logger;
  }

  /** Close the database: the last step of the service, after close(). */
  closeStore(): void {
    this.p.store.close();
  }

  private closing: Promise<void> | null = null;

  /**
   * Let go of everything without touching VMs (also the stale-engine handover). Once: a shutdown
   * closes the engine and then the service around it closes it again.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.p.metrics?.stop();
    // Builds die with the engine (nothing half-built is registered); VM operations finish.
    for (const b of this.p.images?.builds() ?? []) {
      if (b.state === 'running') {
        try {
          this.p.images!.cancel(b.id);
        } catch {
          /* ended meanwhile */
        }
      }
    }
    await this.vms.idle();
    this.vms.close();
    // The listeners go with this engine; the next one (a restart, a newer build) opens them again.
    await this.forwards.closeAll();
    await this.p.dns?.stop().catch(() => {});
    this.p.logger.info('engine stopped', { pid: process.pid });
  }
}
