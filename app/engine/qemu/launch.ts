// One QEMU VMM being started, its state on this object (not in closure locals shared by the
// steps): spawn it with the accel the host allows, console FIFO in and the capping relay out;
// wait for QMP (an early exit reported with the console's last lines); check it runs the guest.
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import type { LaunchSpec, VmmHandle } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import type { AccelDecision } from './accel.js';
import { buildQemuArgv } from './cmdline.js';
import { withQmp } from './qmp.js';
import { pidAlive } from '../../base/pid.js';
import { refuseLiveSocket } from '../driver/vmm-process.js';
import { openConsoleSink, type ConsoleSink } from '../driver/console-relay.js';
import { fileSize, readTail } from '../../base/fsutil.js';
import { sleep } from '../../base/time.js';
import { startShares, type ShareFiles } from './virtiofs.js';

export type ExitStatus = { code: number | null; signal: string | null };

export interface QemuLaunchDeps {
  runner: ProcessRunner;
  bin: string;
  log: Logger;
  qmpWaitMs: number;
  accel(): AccelDecision;
  /** Wait for the VMM to go (the driver's). */
  waitExit(h: VmmHandle, ms: number): Promise<unknown>;
}

export class QemuLaunch {
  private exitedEarly: ExitStatus | null = null;
  /** Where this boot's console output starts in the log (the early-exit report reads from there). */
  private logStart = 0;
  /** This boot's shared-folder servers (started before QEMU, which connects to them). */
  private shares: ShareFiles[] = [];

  constructor(
    private readonly d: QemuLaunchDeps,
    private readonly spec: LaunchSpec,
    private readonly undo: UndoStack,
    private readonly handle: { current: VmmHandle | null },
  ) {}

  private argv(accel: AccelDecision): string[] {
    const { spec } = this;
    return buildQemuArgv({
      bin: this.d.bin,
      vmId: spec.vm.id,
      accel: accel.accel,
      cpu: accel.cpu,
      memoryMib: spec.vm.memoryMib,
      vcpus: spec.vm.vcpus,
      kernelPath: spec.kernelPath,
      initrdPath: spec.initrdPath,
      rootfsPath: spec.rootfsPath,
      drives: spec.drives,
      bootArgs: spec.bootArgs,
      accelBootArgs: accel.bootArgs,
      tap: spec.tap,
      mac: spec.mac,
      socketPath: spec.socketPath,
      incoming: spec.restoreFrom !== undefined,
      shares: this.shares,
    });
  }

  async launch(): Promise<void> {
    const { spec } = this;
    const accel = this.d.accel();
    if (!accel.usable) throw new BangerError(ErrorCodes.VMM, `qemu cannot run here: ${accel.reason}`);
    // A socket left by a crashed QEMU would make wait-qmp talk to nothing; a live one is another VMM's.
    await refuseLiveSocket(spec.socketPath, spec.vm.name);
    rmSync(spec.socketPath, { force: true });
    this.shares = await startShares(this.d.runner, spec.dir, spec.vm.mounts ?? [], this.undo, this.d.log);
    const argv = this.argv(accel);
    const child = this.spawn(argv);
    if (child.pid <= 0) {
      const st = await child.exited;
      throw new BangerError(
        ErrorCodes.VMM,
        `cannot start ${this.d.bin} (exit ${st.code}): not found or not executable`,
      );
    }
    const exited = child.exited.then((st): ExitStatus => {
      this.exitedEarly = { code: st.code, signal: st.signal };
      return this.exitedEarly;
    });
    const pid = child.pid;
    this.handle.current = { pid, socketPath: spec.socketPath, exited };
    this.d.log.info(`qemu launched for vm ${spec.vm.name}`, { pid, accel: accel.accel, argv });
    this.undo.push('kill qemu', async () => {
      if (pidAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await this.d.waitExit({ pid, socketPath: spec.socketPath, exited }, 3000);
      }
      rmSync(spec.socketPath, { force: true });
    });
  }

  private spawn(argv: string[]) {
    const { spec } = this;
    // O_RDWR: opening a FIFO read-only blocks until a writer shows up; read/write never does.
    const fifoFd = openSync(spec.consoleFifo, constants.O_RDWR);
    // A restore: the saved stream is QEMU's fd 3, read by QEMU itself (migrate-incoming fd:3).
    const stateFd = spec.restoreFrom ? openSync(spec.restoreFrom.state, constants.O_RDONLY) : null;
    let sink: ConsoleSink | null = null;
    try {
      // Console output through the capping relay: the cap holds with no engine running.
      sink = openConsoleSink(this.d.runner, spec.consoleLog, spec.consoleMaxBytes ?? 0);
      this.logStart = fileSize(spec.consoleLog);
      const stdio = [fifoFd, sink.stdio, sink.stdio, ...(stateFd === null ? [] : [stateFd])];
      return this.d.runner.spawn(argv, { stdio, detached: true });
    } finally {
      // QEMU holds its own copies; ours would keep the FIFO open after QEMU dies.
      closeSync(fifoFd);
      if (stateFd !== null) closeSync(stateFd);
      sink?.release();
    }
  }

  async waitQmp(): Promise<void> {
    const h = this.handle.current!;
    const deadline = Date.now() + this.d.qmpWaitMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.exitedEarly || !pidAlive(h.pid)) throw await this.earlyExit();
      try {
        await withQmp(h.socketPath, async () => undefined, { timeoutMs: 1000 });
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(50);
    }
    throw new BangerError(
      ErrorCodes.TIMEOUT,
      `QMP did not answer within ${this.d.qmpWaitMs} ms on ${h.socketPath}: ${last}`,
    );
  }

  private async earlyExit(): Promise<BangerError> {
    await sleep(50); // let the last console bytes land
    const st = this.exitedEarly;
    const how = st ? (st.signal ? `signal ${st.signal}` : `exit ${st.code}`) : 'exited';
    const tail = readTail(this.spec.consoleLog, 1500, this.logStart).replace(/\r/g, '').trim();
    return new BangerError(
      ErrorCodes.VMM,
      `qemu exited before QMP came up (${how})${tail ? `: ${tail.split('\n').slice(-5).join(' | ')}` : ''}`,
    );
  }

  async queryStatus(): Promise<void> {
    const st = await withQmp(this.handle.current!.socketPath, (c) => c.queryStatus());
    if (!st.running) throw new BangerError(ErrorCodes.VMM, `qemu is not running the guest: status "${st.status}"`);
  }
}
