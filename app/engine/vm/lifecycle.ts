// The VM state machine: created -> starting -> running -> stopping -> stopped, and error with
// a reason. Boot is a named list of steps with an undo stack; every change is stored, logged
// as an event and emitted.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, StopOptions, VmRecord, VmState } from '../api.js';
import type { Config } from '../config.js';
import type { Store } from '../store.js';
import type { EventBus } from '../events.js';
import type { ConsolePort, DnsPort, NetworkPort } from '../ports.js';
import type { BootStep, ExitInfo, LaunchSpec, VmDriver, VmmHandle } from './driver.js';
import { UndoStack } from './undo.js';
import { diskPath } from './create.js';
import { BangerError, ErrorCodes } from '../../errors.js';
import { vmDir, type Paths } from '../../paths.js';
import type { Logger } from '../../log.js';
import { pidAlive as isAlive } from '../../pid.js';

export const DEFAULT_BOOT_ARGS = 'console=ttyS0 reboot=k panic=1 pci=off';

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
}

export function vmRuntimeDir(paths: Paths, vmId: string): string {
  return join(paths.runtimeDir, 'vms', vmId);
}

export function bootArgsFor(vm: VmRecord, ipArg: string | null): string {
  return [DEFAULT_BOOT_ARGS, ipArg ?? '', vm.bootArgs].filter(Boolean).join(' ');
}

export class VmLifecycle {
  private handles = new Map<string, VmmHandle>();
  private stopping = new Set<string>();
  /** VMs with a start, stop or remove in flight: one operation per VM at a time. */
  private busy = new Map<string, { verb: string; done: Promise<unknown> }>();
  private timer: NodeJS.Timeout | null = null;

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
    // Names arrive from the control socket too: anything but a string is a malformed request.
    if (typeof name !== 'string')
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `a VM name must be a string, got ${describe(name)}`);
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

  private requireState(vm: VmRecord, allowed: VmState[], verb: string): void {
    if (!allowed.includes(vm.state)) {
      throw new BangerError(
        ErrorCodes.INVALID_STATE,
        `cannot ${verb} VM "${vm.name}": it is ${vm.state} (allowed from ${allowed.join(', ')})`,
      );
    }
  }

  /** Run op as the VM's one operation in flight; a second one is refused, not interleaved. */
  private exclusive<T>(vm: VmRecord, verb: string, op: () => Promise<T>): Promise<T> {
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
    return this.exclusive(vm, 'start', () => this.doStart(vm));
  }

  // eslint-disable-next-line max-lines-per-function -- long before the lint existed; split when next touched
  private async doStart(initial: VmRecord): Promise<VmRecord> {
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
    // Synchronous check-and-set: a second start now sees "starting".
    vm = this.update(vm, { state: 'starting', lastError: null, exitCode: null, exitSignal: null });

    const undo = new UndoStack();
    const handle: { current: VmmHandle | null } = { current: null };
    const dir = vmDir(this.d.paths, vm.id);
    const rdir = vmRuntimeDir(this.d.paths, vm.id);
    let ipArg: string | null = null;
    let tap: string | null = null;
    let consolePaths = { log: join(dir, 'console.log'), fifo: join(rdir, 'console.in') };
    const spec = (): LaunchSpec => ({
      vm,
      dir,
      kernelPath: kernel.path,
      initrdPath: kernel.initrdPath,
      rootfsPath: diskPath(this.d.paths, vm.id),
      bootArgs: bootArgsFor(vm, ipArg),
      tap,
      mac: vm.mac,
      consoleLog: consolePaths.log,
      consoleFifo: consolePaths.fifo,
      socketPath: join(rdir, vm.backend === 'qemu' ? 'qmp.sock' : 'api.sock'),
      vmmLog: join(dir, 'vmm.log'),
      metricsPath: join(dir, 'metrics.json'),
    });

    const common: BootStep[] = [
      {
        name: 'validate',
        run: async () => {
          for (const [what, p] of [
            ['kernel', kernel.path],
            ['disk', diskPath(this.d.paths, vm.id)],
            ['initrd', kernel.initrdPath],
          ] as const) {
            if (p && !existsSync(p)) throw new BangerError(ErrorCodes.NOT_FOUND, `${what} file is missing: ${p}`);
          }
        },
      },
      {
        name: 'create-dirs',
        run: async () => {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          mkdirSync(rdir, { recursive: true, mode: 0o700 });
          undo.push('remove runtime dir', () => rmSync(rdir, { recursive: true, force: true }));
        },
      },
      {
        name: 'network',
        run: async () => {
          if (!this.d.network) return;
          const net = await this.d.network.setupVm({ id: vm.id, name: vm.name }, undo);
          tap = net.tap;
          ipArg = net.ipArg;
          vm = this.d.store.updateVm(vm.id, { tap: net.tap });
        },
      },
      {
        name: 'console',
        run: async () => {
          if (!this.d.console) return;
          consolePaths = await this.d.console.prepare(vm.id, rdir);
          undo.push('remove console fifo', () => this.d.console!.cleanup(consolePaths.fifo));
        },
      },
    ];
    // The driver's steps are built lazily so they see the network/console results.
    let current = '';
    try {
      for (const step of common) {
        current = step.name;
        await step.run();
      }
      for (const step of driver.bootSteps(spec(), undo, handle)) {
        current = step.name;
        await step.run();
      }
    } catch (err) {
      await undo.unwind();
      const msg = `boot step "${current}" failed: ${(err as Error).message}`;
      this.d.logger.error(
        `vm ${vm.name}: ${msg}`,
        undo.failures.length ? { undoFailures: undo.failures.map((f) => f.name) } : undefined,
      );
      const now = this.d.store.getVmById(vm.id);
      if (now) this.update(now, { state: 'error', lastError: msg, pid: null, socketPath: null, tap: null }, msg);
      throw new BangerError(ErrorCodes.BOOT_FAILED, msg, { cause: err, details: { step: current } });
    }
    undo.commit();
    const h = handle.current!;
    this.handles.set(vm.id, h);
    vm = this.update(vm, {
      state: 'running',
      pid: h.pid,
      socketPath: h.socketPath,
      tap,
      startedAt: new Date().toISOString(),
      stoppedAt: null,
    });
    this.afterRunning(vm, consolePaths);
    return vm;
  }

  /** Shared by start and adoption: console tail, DNS record, exit watch. */
  afterRunning(vm: VmRecord, consolePaths: { log: string; fifo: string }): void {
    this.d.console?.attach(vm.id, consolePaths.log, consolePaths.fifo);
    if (vm.ip) this.d.dns?.upsert(vm.name, vm.ip);
    const h = this.handles.get(vm.id);
    h?.exited?.then((info) => {
      if (this.handles.get(vm.id) === h) void this.onExit(vm.id, info);
    });
    this.watch();
  }

  adopt(vm: VmRecord, handle: VmmHandle): VmRecord {
    this.handles.set(vm.id, handle);
    const rdir = vmRuntimeDir(this.d.paths, vm.id);
    const next = this.update(vm, { state: 'running', pid: handle.pid, socketPath: handle.socketPath });
    this.afterRunning(next, { log: join(vmDir(this.d.paths, vm.id), 'console.log'), fifo: join(rdir, 'console.in') });
    return next;
  }

  /** One timer for all VMs: notices a VMM that exited on its own (guest poweroff, crash). */
  private watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const [id, h] of this.handles) {
        // Our own children report their exit status through `exited`; poll only the others.
        if (!h.exited && !this.stopping.has(id) && !isAlive(h.pid)) void this.onExit(id, { code: null, signal: null });
      }
      if (this.handles.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }, 250);
    this.timer.unref();
  }

  private async onExit(vmId: string, info: { code: number | null; signal: string | null }): Promise<void> {
    if (this.stopping.has(vmId) || !this.handles.has(vmId)) return;
    this.handles.delete(vmId);
    const vm = this.d.store.getVmById(vmId);
    if (!vm) return;
    await this.release(vm);
    const unknown = info.code === null && info.signal === null;
    const clean = info.code === 0;
    const reason = clean
      ? null
      : unknown
        ? 'VMM exited on its own (exit status unknown: it was adopted, not started by this engine)'
        : `VMM exited on its own (${info.signal ? `signal ${info.signal}` : `exit ${info.code}`})`;
    this.update(
      vm,
      {
        state: clean || unknown ? 'stopped' : 'error',
        pid: null,
        socketPath: null,
        tap: null,
        stoppedAt: new Date().toISOString(),
        exitCode: info.code,
        exitSignal: info.signal,
        lastError: reason,
      },
      reason ?? 'guest shut down',
    );
  }

  /** Give back what a running VM held: DNS record, console, TAP, FIFO, socket. The lease stays (sticky). */
  async release(vm: VmRecord): Promise<void> {
    this.d.dns?.remove(vm.name);
    this.d.console?.detach(vm.id);
    const rdir = vmRuntimeDir(this.d.paths, vm.id);
    try {
      await this.d.network?.teardownVm(vm.id, vm.tap);
    } catch (err) {
      this.d.logger.warn(`vm ${vm.name}: TAP teardown failed`, { err: String(err) });
    }
    await this.d.console?.cleanup(join(rdir, 'console.in')).catch(() => {});
    rmSync(rdir, { recursive: true, force: true });
  }

  async stop(name: string, opts: StopOptions = {}): Promise<VmRecord> {
    validateStopOptions(opts);
    const vm = this.get(name);
    this.requireState(vm, ['running'], 'stop');
    return this.exclusive(vm, 'stop', () => this.doStop(vm, opts));
  }

  private async doStop(initial: VmRecord, opts: StopOptions): Promise<VmRecord> {
    let vm = initial;
    const h = this.handles.get(vm.id) ?? (vm.pid && vm.socketPath ? { pid: vm.pid, socketPath: vm.socketPath } : null);
    this.stopping.add(vm.id);
    try {
      vm = this.update(vm, { state: 'stopping' });
      let exit: ExitInfo = { exitCode: null, signal: null, how: 'gone' };
      if (h)
        exit = await this.driverFor(vm).stop(h, {
          force: opts.force,
          timeoutMs: opts.timeoutMs ?? this.d.config.stopTimeoutMs,
        });
      this.handles.delete(vm.id);
      await this.release(vm);
      return this.update(
        vm,
        {
          state: 'stopped',
          pid: null,
          socketPath: null,
          tap: null,
          stoppedAt: new Date().toISOString(),
          exitCode: exit.exitCode,
          exitSignal: exit.signal,
          lastError: null,
        },
        `stopped (${exit.how}${exit.exitCode !== null ? `, exit ${exit.exitCode}` : ''}${exit.signal ? `, ${exit.signal}` : ''})`,
      );
    } catch (err) {
      const now = this.d.store.getVmById(vm.id);
      if (now) this.update(now, { state: 'error', lastError: `stop failed: ${(err as Error).message}` });
      throw err;
    } finally {
      this.stopping.delete(vm.id);
    }
  }

  async restart(name: string): Promise<VmRecord> {
    const vm = this.get(name);
    if (vm.state === 'running') await this.stop(name);
    return this.start(name);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<VmRecord> {
    validateStopOptions(opts);
    let vm = this.get(name);
    if (['running', 'starting', 'stopping'].includes(vm.state)) {
      if (!opts.force) {
        throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is ${vm.state}: stop it first or use --force`);
      }
      // --force: let a start or stop in flight finish (it owns processes and files), then kill.
      await this.busy.get(vm.id)?.done.catch(() => {});
      vm = this.get(name);
      if (vm.state === 'running') vm = await this.stop(name, { force: true });
    }
    return this.exclusive(vm, 'remove', async () => this.doRemove(vm));
  }

  private doRemove(vm: VmRecord): VmRecord {
    this.d.network?.releaseLease(vm.id);
    this.d.store.deleteVm(vm.id);
    rmSync(vmDir(this.d.paths, vm.id), { recursive: true, force: true });
    rmSync(vmRuntimeDir(this.d.paths, vm.id), { recursive: true, force: true });
    this.d.store.addEvent('vm', vm.name, 'deleted');
    this.d.bus.emit({ type: 'vm-removed', id: vm.id, name: vm.name });
    return vm;
  }

  runningHandles(): Map<string, VmmHandle> {
    return this.handles;
  }

  /** Stop watching (engine shutdown); VMs keep running. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const id of this.handles.keys()) this.d.console?.detach(id);
    this.handles.clear();
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** Options from the wire are checked before anything happens: a bad one changes nothing. */
function validateStopOptions(opts: unknown): asserts opts is StopOptions {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `options must be an object, got ${describe(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  if (o.force !== undefined && typeof o.force !== 'boolean') {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `option "force" must be true or false, got ${describe(o.force)}`,
    );
  }
  if (
    o.timeoutMs !== undefined &&
    !(typeof o.timeoutMs === 'number' && Number.isFinite(o.timeoutMs) && o.timeoutMs >= 0)
  ) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `option "timeoutMs" must be a number of milliseconds >= 0, got ${JSON.stringify(o.timeoutMs) ?? describe(o.timeoutMs)}`,
    );
  }
}
