// The QEMU microvm backend. Same console contract as Firecracker: QEMU's stdout/stderr go to
// the console log file and its stdin is the engine's FIFO, so the VMM outlives the engine.
// Boot: launch-vmm -> wait-qmp -> query-status. Stop: Ctrl-Alt-Del (the guest's init reboots,
// -no-reboot turns that into an exit), then QMP quit / SIGTERM, then SIGKILL.
import { rmSync } from 'node:fs';
import type { VmmStamp, VmRecord } from '../../contract/api.js';
import type { BootStep, ExitInfo, LaunchSpec, SnapshotFiles, VmDriver, VmmHandle } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import { directProbe, type Probe } from '../../base/probe.js';
import { which, type ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { nullLogger, type Logger } from '../../base/log.js';
import { decideAccel, readAccelInputs, type AccelDecision, type AccelInputs, type AccelMode } from './accel.js';
import { cmdlineOwnedBy } from './cmdline.js';
import { QmpClient, withQmp } from './qmp.js';
import { QemuLaunch } from './launch.js';
import { qemuCheckLoadable, qemuVersion, streamMachine } from './snapshot-compat.js';
import { qemuLoadSnapshot, qemuPause, qemuResume, qemuRunState, qemuSaveSnapshot } from './snapshot.js';
import { pidAlive } from '../../base/pid.js';
import { sleep } from '../../base/time.js';

export interface QemuDriverOptions {
  runner: ProcessRunner;
  bin: string;
  accel: AccelMode;
  logger?: Logger;
  /** Seam for tests: the host facts the accel decision reads. */
  accelInputs?: () => AccelInputs;
  /** How long QMP may take to come up after launch. Default 10 s. */
  qmpWaitMs?: number;
  /** After the graceful window: how long SIGTERM / quit gets before SIGKILL. Default 3 s. */
  termWaitMs?: number;
  /** How `--version` and `-machine help` are asked (the engine and doctor remember them: base/probe.ts). */
  probe?: Probe;
}

type ExitStatus = { code: number | null; signal: string | null };

export class QemuDriver implements VmDriver {
  readonly backend = 'qemu' as const;
  private readonly log: Logger;
  private readonly qmpWaitMs: number;
  private readonly termWaitMs: number;

  constructor(private readonly o: QemuDriverOptions) {
    this.log = o.logger ?? nullLogger;
    this.qmpWaitMs = o.qmpWaitMs ?? 10_000;
    this.termWaitMs = o.termWaitMs ?? 3_000;
  }

  private probeFn(): Probe {
    return this.o.probe ?? directProbe(this.o.runner);
  }

  accelDecision(): AccelDecision {
    return decideAccel(this.o.accel, (this.o.accelInputs ?? readAccelInputs)());
  }

  async available(): Promise<{ ok: boolean; reason: string; version?: string }> {
    const path = which(this.o.bin);
    if (!path) return { ok: false, reason: `${this.o.bin} not found on PATH (install qemu-system-x86)` };
    const probe = this.probeFn();
    // Both at once: each is a whole QEMU start.
    const [v, machines] = await Promise.all([probe([path, '--version']), probe([path, '-machine', 'help'])]);
    const m = /QEMU emulator version (\S+)/.exec(v.stdout);
    if (v.exitCode !== 0 || !m)
      return { ok: false, reason: `${path} --version failed: ${(v.stderr || v.stdout).trim().split('\n')[0] ?? ''}` };
    if (!/^microvm\s/m.test(machines.stdout))
      return { ok: false, reason: `${path} ${m[1]} has no microvm machine type`, version: m[1] };
    const accel = this.accelDecision();
    return { ok: accel.usable, reason: `${path} ${m[1]}; ${accel.reason}`, version: m[1] };
  }

  /** Boot: launch-vmm -> wait-qmp -> query-status, one QemuLaunch holding the launch's state. */
  bootSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
    const run = new QemuLaunch(
      {
        runner: this.o.runner,
        bin: this.o.bin,
        log: this.log,
        qmpWaitMs: this.qmpWaitMs,
        accel: () => this.accelDecision(),
        waitExit: (h, ms) => this.waitExit(h, ms),
      },
      spec,
      undo,
      handle,
    );
    return [
      { name: 'launch-vmm', run: () => run.launch() },
      { name: 'wait-qmp', run: () => run.waitQmp() },
      { name: 'query-status', run: () => run.queryStatus() },
    ];
  }

  /** Wait up to ms for the VMM to exit; resolves with its status when we know it. */
  private async waitExit(h: VmmHandle, ms: number): Promise<{ gone: boolean; status: ExitStatus | null }> {
    const deadline = Date.now() + ms;
    if (h.exited) {
      let timer: NodeJS.Timeout | undefined;
      const st = await Promise.race([
        h.exited,
        new Promise<null>((r) => {
          timer = setTimeout(() => r(null), ms);
        }),
      ]);
      clearTimeout(timer);
      if (st) return { gone: true, status: st };
      return { gone: !pidAlive(h.pid), status: null };
    }
    // Adopted after an engine restart: we are not the parent, so poll and learn no exit code.
    while (Date.now() < deadline) {
      if (!pidAlive(h.pid)) return { gone: true, status: null };
      await sleep(50);
    }
    return { gone: !pidAlive(h.pid), status: null };
  }

  private info(how: ExitInfo['how'], st: ExitStatus | null): ExitInfo {
    return { exitCode: st?.code ?? null, signal: st?.signal ?? null, how };
  }

  private signal(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH')
        throw new BangerError(ErrorCodes.VMM, `cannot send ${sig} to qemu pid ${pid}: ${(err as Error).message}`, {
          cause: err,
        });
    }
  }

  async stop(handle: VmmHandle, opts: { force?: boolean; timeoutMs: number }): Promise<ExitInfo> {
    const done = async (how: ExitInfo['how'], ms: number): Promise<ExitInfo | null> => {
      const r = await this.waitExit(handle, ms);
      if (!r.gone) return null;
      rmSync(handle.socketPath, { force: true });
      return this.info(how, r.status);
    };
    if (!pidAlive(handle.pid)) {
      const r = await this.waitExit(handle, 0);
      rmSync(handle.socketPath, { force: true });
      return this.info('gone', r.status);
    }
    if (!opts.force) {
      // The connection stays open until QEMU exits: its SHUTDOWN event tells an adopted VM's
      // exit status, which waitpid cannot (we are not its parent after an engine restart).
      let guestShutdown = false;
      let qmp: QmpClient | null = null;
      try {
        qmp = await QmpClient.connect(handle.socketPath, {
          timeoutMs: 2000,
          onEvent: (e) => {
            if (e.event === 'SHUTDOWN' && e.data?.guest === true) guestShutdown = true;
          },
        });
        await qmp.sendCtrlAltDel();
        const r = await done('graceful', opts.timeoutMs);
        if (r) {
          // -no-reboot: a guest-initiated reset/poweroff ends QEMU with status 0.
          if (r.exitCode === null && r.signal === null && guestShutdown) r.exitCode = 0;
          return r;
        }
        this.log.warn(`qemu pid ${handle.pid}: guest ignored Ctrl-Alt-Del for ${opts.timeoutMs} ms`);
      } catch (err) {
        this.log.warn(`qemu pid ${handle.pid}: Ctrl-Alt-Del failed`, { err: (err as Error).message });
      } finally {
        qmp?.close();
      }
      // QMP quit first: it works even when a signal would not (EPERM); SIGTERM as backup.
      await withQmp(handle.socketPath, (c) => c.quit(), { timeoutMs: 1000 }).catch(() => undefined);
      this.signal(handle.pid, 'SIGTERM');
      const r = await done('term', this.termWaitMs);
      if (r) return r;
    }
    this.signal(handle.pid, 'SIGKILL');
    const r = await done('kill', 5000);
    if (r) return r;
    throw new BangerError(ErrorCodes.VMM, `qemu pid ${handle.pid} survived SIGKILL`);
  }

  ownsProcess(cmdline: string, vm: VmRecord): boolean {
    return cmdlineOwnedBy(cmdline, vm.id, vm.socketPath);
  }

  executable(): string {
    return which(this.o.bin) ?? this.o.bin;
  }

  vmmOwners(): number[] {
    return [process.getuid?.() ?? 0];
  }

  pause(handle: VmmHandle): Promise<void> {
    return qemuPause(handle);
  }
  resume(handle: VmmHandle): Promise<void> {
    return qemuResume(handle);
  }
  runState(handle: VmmHandle): Promise<'running' | 'paused' | null> {
    return qemuRunState(handle);
  }
  saveSnapshot(handle: VmmHandle, files: SnapshotFiles): Promise<void> {
    return qemuSaveSnapshot(handle, files);
  }

  /** The running QEMU's own version (QMP: the binary on disk may have been upgraded since it started). */
  async stampSnapshot(h: VmmHandle, files: SnapshotFiles): Promise<VmmStamp> {
    const header = streamMachine(files.state);
    const v = await withQmp(h.socketPath, (c) =>
      c.execute<{ qemu: { major: number; minor: number; micro: number } }>('query-version'),
    ).catch(() => null);
    return {
      backend: 'qemu',
      version: v
        ? `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}`
        : ((await qemuVersion(this.probeFn(), this.executable())) ?? 'unknown'),
      format: 'machine' in header ? header.machine : null,
    };
  }
  checkLoadable(files: SnapshotFiles, stamp: VmmStamp | null): Promise<void> {
    return qemuCheckLoadable(this.probeFn(), this.executable(), files.state, stamp, files.dir.split('/').pop() ?? '');
  }

  /** Boot's launch and QMP wait (with -incoming defer), then load the stream and continue. */
  restoreSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
    const files = spec.restoreFrom;
    if (!files) throw new BangerError(ErrorCodes.INTERNAL, 'restoreSteps without a snapshot');
    const launch = this.bootSteps(spec, undo, handle).filter((s) => s.name !== 'query-status');
    return [
      ...launch,
      { name: 'load-snapshot', run: () => qemuLoadSnapshot(handle.current!, files) },
      {
        name: 'resume',
        run: async () => {
          await qemuResume(handle.current!);
          const st = await qemuRunState(handle.current!);
          if (st !== 'running') throw new BangerError(ErrorCodes.VMM, `qemu did not resume the restored guest (${st})`);
        },
      },
    ];
  }

  async probe(handle: VmmHandle): Promise<boolean> {
    if (!pidAlive(handle.pid)) return false;
    try {
      const st = await withQmp(handle.socketPath, (c) => c.queryStatus(), { timeoutMs: 2000, commandTimeoutMs: 2000 });
      return typeof st.status === 'string';
    } catch {
      return false;
    }
  }
}
