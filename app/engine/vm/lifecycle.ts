// The VM state machine: created -> starting -> running -> stopping -> stopped, and error with
// a reason. Boot is a named list of steps with an undo stack; every change is stored, logged
// as an event and emitted.
import type { SeedPort } from './seed/build.js';
import { rmSync } from 'node:fs';
import { LIVE_STATES, type Backend, type StopOptions, type VmRecord, type VmState } from '../../contract/api.js';
import type { Config } from '../config.js';
import { forgetHostKey, sshKnownHostsFile } from '../../base/ssh-known-hosts.js';
import type { Store } from '../store.js';
import type { EventBus } from '../events.js';
import type { ConsolePort, DnsPort, NetworkPort } from '../ports.js';
import type { ExitInfo, SnapshotFiles, VmDriver, VmmHandle } from '../driver/contract.js';
import { BootFailure, runBoot, socketPathFor } from './boot.js';
import { liveVmmsOf, stopTimeoutFor } from './vmm-guard.js';
import { ExitPoller, exitRecord, fixLater } from './exit-watch.js';
import { sameProcessAlive, startTimeOf } from '../driver/vmm-process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { vmPaths, type Paths } from '../../base/paths.js';
import { isActive, isLive } from '../../contract/vm-facts.js';
import type { Logger } from '../../base/log.js';
import type { ProcessRunner } from '../../base/process.js';
import { closeSshMaster, forgetSshMaster } from './ssh-master.js';
import type { PortForwards } from '../ports/forwards.js';

/** A suspended VM's start: back with its saved state, or a note on why it boots cold. */
export type ResumeOutcome = { vm: VmRecord } | { cold: string };

export interface LifecycleDeps {
  store: Store;
  paths: Paths;
  config: Config;
  logger: Logger;
  bus: EventBus;
  drivers: Map<Backend, VmDriver>;
  network: NetworkPort | null;
  dns: DnsPort | null;
  console: ConsolePort | null;
  /** Runs `ssh -O exit` for the VM's exec master on stop (none: its files are only removed). */
  runner?: ProcessRunner;
  /** Published ports' listeners (open while a VM runs). */
  forwards?: PortForwards | null;
  /** Builds each boot's seed drive (absent: VMs boot with their root disk only). */
  seed?: SeedPort | null;
}

export class VmLifecycle {
  private handles = new Map<string, VmmHandle>();
  private stopping = new Set<string>();
  /** VMs with a start, stop or remove in flight: one operation per VM at a time. */
  private busy = new Map<string, { verb: string; done: Promise<unknown> }>();
  /** Notices a VMM that exited on its own when it is not our child (adopted, or via sudo). */
  private readonly poller = new ExitPoller(this.handles, this.stopping, (id) =>
    this.exitSafely(id, { code: null, signal: null }),
  );

  constructor(private d: LifecycleDeps) {}

  driverFor(vm: VmRecord): VmDriver {
    const drv = this.d.drivers.get(vm.backend);
    if (!drv)
      throw new BangerError(
        ErrorCodes.INVALID_BACKEND,
        `backend "${vm.backend}" is not available on this host (see banger doctor)`,
      );
    return drv;
  }

  get(name: string): VmRecord {
    const vm = this.d.store.getVm(name);
    if (!vm) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named "${name}" (see banger vm ls)`);
    return vm;
  }

  /** Store a change, log it, tell the front ends. */
  update(vm: VmRecord, patch: Partial<VmRecord>, note?: string): VmRecord {
    const next = this.d.store.updateVm(vm.id, patch);
    if (patch.state && patch.state !== vm.state) {
      this.d.store.addEvent('vm', vm.name, `${vm.state} -> ${patch.state}${note ? `: ${note}` : ''}`);
      this.d.logger.info(`vm ${vm.name}: ${vm.state} -> ${patch.state}`, note ? { note } : undefined);
    }
    this.d.bus.emit({ type: 'vm', vm: next });
    return next;
  }

  requireState(vm: VmRecord, allowed: readonly VmState[], verb: string): void {
    if (!allowed.includes(vm.state)) {
      throw new BangerError(
        ErrorCodes.INVALID_STATE,
        `cannot ${verb} VM "${vm.name}": it is ${vm.state} (allowed from ${allowed.join(', ')})`,
      );
    }
  }

  /** Run op as the VM's one operation in flight; a second one is refused, not interleaved. */
  exclusive<T>(vm: VmRecord, verb: string, op: () => Promise<T>): Promise<T> {
    const cur = this.busy.get(vm.id);
    if (cur)
      throw new BangerError(
        ErrorCodes.INVALID_STATE,
        `VM "${vm.name}" is busy (${cur.verb} in progress): try again when it is done`,
      );
    const done = op().finally(() => {
      if (this.busy.get(vm.id)?.done === done) this.busy.delete(vm.id);
    });
    this.busy.set(vm.id, { verb, done });
    return done;
  }

  /** The live VMM of a running or paused VM (ours, or rebuilt from its record). */
  handleOf(vm: VmRecord): VmmHandle | null {
    return this.handles.get(vm.id) ?? (vm.pid && vm.socketPath ? { pid: vm.pid, socketPath: vm.socketPath } : null);
  }

  /**
   * Bring a stopped VM back from a snapshot: prepare (putting the snapshot's disk in place)
   * runs as part of the same exclusive operation, then the boot path with the driver's restore
   * steps; rollback (the VM's own disk back) runs, still inside it, when prepare or the load fails.
   */
  async startRestored(
    name: string,
    files: SnapshotFiles,
    swap: { prepare: (vm: VmRecord) => Promise<void>; rollback: (vm: VmRecord) => Promise<void> },
  ): Promise<VmRecord> {
    const vm = this.get(name);
    this.requireState(vm, ['created', 'stopped', 'error'], 'restore');
    if (!this.driverFor(vm).restoreSteps)
      throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `the ${vm.backend} backend cannot restore snapshots`);
    return this.exclusive(vm, 'restore', async () => {
      try {
        await swap.prepare(vm);
        return await this.doStart(vm, files);
      } catch (err) {
        await swap.rollback(vm);
        throw err;
      }
    });
  }

  /**
   * Set by the snapshot service: bring a suspended VM back (restore with its saved state, or
   * say why not and let start boot cold). Runs inside start's exclusive operation.
   */
  resumer: ((vm: VmRecord, restore: (files: SnapshotFiles) => Promise<VmRecord>) => Promise<ResumeOutcome>) | null =
    null;

  /** Stop a VM inside an exclusive operation its caller already holds (suspend). */
  stopHeld(vm: VmRecord, opts: StopOptions): Promise<VmRecord> {
    return this.doStop(vm, opts);
  }

  isBusy(vmId: string): boolean {
    return this.busy.has(vmId);
  }

  /** Wait for every operation in flight (engine shutdown, handover). */
  async idle(): Promise<void> {
    while (this.busy.size) await Promise.allSettled([...this.busy.values()].map((b) => b.done));
  }

  async start(name: string): Promise<VmRecord> {
    const vm = this.get(name);
    this.requireState(vm, ['created', 'stopped', 'error'], 'start');
    return this.exclusive(vm, 'start', async () => {
      if (vm.suspended && this.resumer) {
        const back = await this.resumer(vm, (files) => this.doStart(vm, files));
        if ('vm' in back) return back.vm;
        // The note stays on the running VM (vm show, the TUI) until its next start or stop.
        return this.update(await this.doStart(this.get(vm.name)), { lastError: back.cold });
      }
      return this.doStart(vm);
    });
  }

  /** Two VMMs on one disk corrupt it: refuse while any VMM of this VM is alive. */
  private refuseLiveVmm(vm: VmRecord, driver: VmDriver): void {
    const live = liveVmmsOf(vm, driver);
    if (!live.length) return;
    const pids = live.map((p) => p.pid).join(', ');
    throw new BangerError(
      ErrorCodes.VMM_ALIVE,
      `VM "${vm.name}" still has a live VMM (pid ${pids}): stop it first (banger vm stop ${vm.name} --force)`,
      { details: { pids: live.map((p) => p.pid) } },
    );
  }

  private async doStart(initial: VmRecord, restoreFrom?: SnapshotFiles): Promise<VmRecord> {
    let vm = initial;
    const driver = this.driverFor(vm);
    const kernel = vm.kernel ? this.d.store.getKernel(vm.kernel) : null;
    if (!kernel)
      throw new BangerError(
        ErrorCodes.UNKNOWN_KERNEL,
        `VM "${vm.name}" has no kernel: add one (banger kernel add/fetch) and recreate it`,
      );
    if (!vm.image)
      throw new BangerError(
        ErrorCodes.UNKNOWN_IMAGE,
        `VM "${vm.name}" has no image: build one (banger image build) and recreate it`,
      );
    this.refuseLiveVmm(vm, driver);
    // Not root without a sudoers rule: say so before the record or the host changes.
    await this.d.network?.preflight?.();
    // Published ports first: one someone took while the VM was stopped fails the start here
    // (E_PORT_TAKEN), with nothing changed, rather than a VM that runs without its service.
    await this.d.forwards?.open(vm.id, vm.ports ?? []);
    // Synchronous check-and-set: a second start now sees "starting". The socket path is stored
    // before the VMM exists, so a crash at any later point leaves it findable.
    vm = this.update(vm, {
      state: 'starting',
      lastError: null,
      exitCode: null,
      exitSignal: null,
      pid: null,
      pidStartTime: null,
      socketPath: socketPathFor(this.d.paths, vm),
    });
    let boot;
    try {
      boot = await runBoot(this.d, vm, driver, kernel, restoreFrom);
    } catch (err) {
      await this.d.forwards?.close(vm.id);
      throw this.bootFailed(vm, err);
    }
    const h = boot.handle;
    this.handles.set(vm.id, h);
    vm = this.update(boot.vm, {
      state: 'running',
      pid: h.pid,
      pidStartTime: startTimeOf(h.pid),
      socketPath: h.socketPath,
      tap: boot.tap,
      startedAt: new Date().toISOString(),
      stoppedAt: null,
    });
    this.afterRunning(vm, boot.consolePaths);
    return vm;
  }

  /** A failed boot: error with the step named; a VMM the undo could not kill stays on the record. */
  private bootFailed(vm: VmRecord, err: unknown): BangerError {
    const f = err instanceof BootFailure ? err : new BootFailure('?', err, null);
    let msg = f.message;
    if (f.vmmAlive) msg += `; its VMM (pid ${f.vmmAlive.pid}) could not be killed and still runs`;
    this.d.logger.error(`vm ${vm.name}: ${msg}`);
    const now = this.d.store.getVmById(vm.id);
    if (now)
      this.update(
        now,
        f.vmmAlive
          ? { state: 'error', lastError: msg, pid: f.vmmAlive.pid, pidStartTime: f.vmmAlive.startTime }
          : { state: 'error', lastError: msg, pid: null, pidStartTime: null, socketPath: null, tap: null },
        msg,
      );
    return new BangerError(ErrorCodes.BOOT_FAILED, msg, { cause: f.reason, details: { step: f.step } });
  }

  /** Shared by start and adoption: console tail, DNS record, exit watch. */
  afterRunning(vm: VmRecord, consolePaths: { log: string; fifo: string }): void {
    this.d.console?.attach(vm.id, consolePaths.log, consolePaths.fifo);
    if (vm.ip) this.d.dns?.upsert(vm.name, vm.ip);
    const h = this.handles.get(vm.id);
    h?.exited?.then((info) => {
      if (this.handles.get(vm.id) === h) this.exitSafely(vm.id, info);
    });
    this.poller.start();
  }

  adopt(vm: VmRecord, handle: VmmHandle, state: 'running' | 'paused' = 'running'): VmRecord {
    this.handles.set(vm.id, handle);
    const files = vmPaths(this.d.paths, vm.id);
    const next = this.update(vm, {
      state,
      pid: handle.pid,
      pidStartTime: startTimeOf(handle.pid),
      socketPath: handle.socketPath,
    });
    this.afterRunning(next, { log: files.consoleLog, fifo: files.consoleFifo });
    return next;
  }

  /** An adopted VM's published ports, open again; one that cannot be is noted on the VM. */
  async reopenPorts(vm: VmRecord): Promise<void> {
    const failed = (await this.d.forwards?.openEach(vm.id, vm.ports ?? [])) ?? [];
    if (!failed.length) return;
    const msg = `published port not reopened: ${failed.join('; ')}`;
    this.d.logger.warn(`vm ${vm.name}: ${msg}`);
    this.update(this.get(vm.name), { lastError: msg });
  }

  /**
   * onExit runs unawaited: a failure in it (SQLITE_FULL, SQLITE_BUSY) must not become an
   * unhandled rejection that kills a detached engine. It is logged; the record still says
   * running with a dead pid, which the next reconcile (or this retry) turns into stopped.
   */
  private exitSafely(vmId: string, info: { code: number | null; signal: string | null }): void {
    this.onExit(vmId, info).catch((err) => {
      this.d.logger.error(`vm ${vmId}: recording the VMM's exit failed; reconcile will set it right`, {
        err: String(err),
      });
      fixLater(vmId, {
        skip: (id) => this.handles.has(id) || this.busy.has(id),
        reconcile: () => this.onReconcileNeeded?.(),
        stillClaimed: (id) => {
          const vm = this.d.store.getVmById(id);
          return !!vm && vm.state === 'running' && !this.handles.has(id);
        },
        logger: this.d.logger,
      });
    });
  }

  /** Set by the engine: run a reconcile (after an exit that could not be recorded). */
  onReconcileNeeded: (() => Promise<unknown>) | null = null;

  private async onExit(vmId: string, info: { code: number | null; signal: string | null }): Promise<void> {
    if (this.stopping.has(vmId) || !this.handles.has(vmId)) return;
    this.handles.delete(vmId);
    const vm = this.d.store.getVmById(vmId);
    if (!vm) return;
    await this.release(vm);
    const { patch, note } = exitRecord(info);
    this.update(vm, patch, note);
  }

  /** Give back what a running VM held: DNS record, console, TAP, FIFO, socket. The lease stays (sticky). */
  async release(vm: VmRecord): Promise<void> {
    await this.d.forwards?.close(vm.id);
    this.d.dns?.remove(vm.name);
    this.d.console?.detach(vm.id);
    const files = vmPaths(this.d.paths, vm.id);
    try {
      await this.d.network?.teardownVm(vm.id, vm.tap);
    } catch (err) {
      this.d.logger.warn(`vm ${vm.name}: TAP teardown failed`, { err: String(err) });
    }
    await this.d.console?.cleanup(files.consoleFifo).catch(() => {});
    rmSync(files.runtimeDir, { recursive: true, force: true });
    await closeSshMaster(this.d.runner, this.d.paths.runtimeDir, vm);
    await this.d.drivers
      .get(vm.backend)
      ?.release?.(vm.id)
      .catch((err) => this.d.logger.warn(`vm ${vm.name}: jail removal failed`, { err: String(err) }));
  }

  async stop(name: string, opts: StopOptions = {}): Promise<VmRecord> {
    const vm = this.get(name);
    // An error VM whose VMM could not be killed can be stopped again (that is the way out).
    if (!(vm.state === 'error' && sameProcessAlive(vm.pid, vm.pidStartTime ?? null)))
      this.requireState(vm, LIVE_STATES, 'stop');
    return this.exclusive(vm, 'stop', () => this.doStop(vm, opts));
  }

  private async doStop(initial: VmRecord, opts: StopOptions): Promise<VmRecord> {
    let vm = initial;
    const h = this.handles.get(vm.id) ?? (vm.pid && vm.socketPath ? { pid: vm.pid, socketPath: vm.socketPath } : null);
    const startTime = vm.pidStartTime ?? null;
    this.stopping.add(vm.id);
    try {
      // A paused guest cannot see Ctrl-Alt-Del: let it run again to shut down cleanly.
      if (h && vm.state === 'paused' && !opts.force) await this.resumeForStop(vm, h);
      vm = this.update(vm, { state: 'stopping' });
      let exit: ExitInfo = { exitCode: null, signal: null, how: 'gone' };
      let failure: Error | null = null;
      if (h) {
        const image = vm.image ? this.d.store.getImage(vm.image) : null;
        const timeoutMs = opts.timeoutMs ?? stopTimeoutFor(vm, image, this.d.config);
        exit = await this.driverFor(vm)
          .stop(h, { force: opts.force, timeoutMs })
          .catch((err: Error) => {
            failure = err;
            return exit;
          });
      }
      // Whatever the driver said: the VMM (this pid with this start time) must be gone.
      if (h && sameProcessAlive(h.pid, startTime)) return this.stopFailed(vm, h.pid, failure);
      this.handles.delete(vm.id);
      await this.release(vm);
      const how = `${exit.how}${exit.exitCode !== null ? `, exit ${exit.exitCode}` : ''}${exit.signal ? `, ${exit.signal}` : ''}`;
      return this.update(
        vm,
        {
          state: 'stopped',
          pid: null,
          pidStartTime: null,
          socketPath: null,
          tap: null,
          stoppedAt: new Date().toISOString(),
          exitCode: exit.exitCode,
          exitSignal: exit.signal,
          lastError: null,
        },
        `stopped (${how})`,
      );
    } catch (err) {
      const now = this.d.store.getVmById(vm.id);
      if (now) this.update(now, { state: 'error', lastError: `stop failed: ${(err as Error).message}` });
      throw err;
    } finally {
      this.stopping.delete(vm.id);
    }
  }

  /** The VMM outlived the stop: error, keeping its pid, TAP, lease and socket (it still uses them). */
  private stopFailed(vm: VmRecord, pid: number, cause: Error | null): never {
    const msg = `stop failed: VMM pid ${pid} is still alive${cause ? ` (${cause.message})` : ''}; its TAP and address are kept`;
    this.update(vm, { state: 'error', lastError: msg }, msg);
    throw new BangerError(ErrorCodes.VMM_ALIVE, `VM "${vm.name}": ${msg}`, { cause, details: { pid } });
  }

  private async resumeForStop(vm: VmRecord, h: VmmHandle): Promise<void> {
    try {
      await this.driverFor(vm).resume?.(h);
    } catch (err) {
      this.d.logger.warn(`vm ${vm.name}: resume before stop failed`, { err: String(err) });
    }
  }

  async restart(name: string): Promise<VmRecord> {
    const vm = this.get(name);
    if (isLive(vm.state)) await this.stop(name);
    return this.start(name);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<VmRecord> {
    let vm = this.get(name);
    if (isActive(vm.state)) {
      if (!opts.force) {
        throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is ${vm.state}: stop it first or use --force`);
      }
      // --force: let a start or stop in flight finish (it owns processes and files), then kill.
      await this.busy.get(vm.id)?.done.catch(() => {});
      vm = this.get(name);
      if (isLive(vm.state)) vm = await this.stop(name, { force: true });
    }
    return this.exclusive(vm, 'remove', async () => this.doRemove(vm));
  }

  private doRemove(vm: VmRecord): VmRecord {
    forgetSshMaster(this.d.paths.runtimeDir, vm);
    this.d.network?.releaseLease(vm.id);
    this.d.store.deleteVm(vm.id);
    rmSync(vmPaths(this.d.paths, vm.id).dir, { recursive: true, force: true });
    rmSync(vmPaths(this.d.paths, vm.id).runtimeDir, { recursive: true, force: true });
    // `ssh NAME.vm` pinned this VM's host key by name: the next VM of that name has another.
    forgetHostKey(sshKnownHostsFile(this.d.paths), `${vm.name}.${this.d.config.dnsZone}`);
    this.d.store.addEvent('vm', vm.name, 'deleted');
    this.d.bus.emit({ type: 'vm-removed', id: vm.id, name: vm.name });
    return vm;
  }

  runningHandles(): Map<string, VmmHandle> {
    return this.handles;
  }

  /** Stop watching (engine shutdown); VMs keep running. */
  close(): void {
    this.poller.stop();
    for (const id of this.handles.keys()) this.d.console?.detach(id);
    this.handles.clear();
  }
}
