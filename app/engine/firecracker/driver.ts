// The Firecracker VmDriver: launch the VMM the way a strategy says (launch-strategy.ts: directly,
// through sudo or the entry point, under the jailer; vmm-launch.ts holds one launch's state),
// configure it in the Go SDK's order, start it; stop it Ctrl-Alt-Del first.
import { realpathSync, rmSync } from 'node:fs';
import type { Backend, VmmStamp, VmRecord } from '../../contract/api.js';
import type { ProcessRunner, SpawnedProcess } from '../../base/process.js';
import { directProbe, type Probe } from '../../base/probe.js';
import { which } from '../../base/process.js';
import type { BootStep, ExitInfo, LaunchSpec, SnapshotFiles, VmDriver, VmmHandle } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import { FirecrackerClient } from './client.js';
import { firecrackerAvailable } from './vmm-files.js';
import { JailSupport, noJailedSnapshots } from './jail-launch.js';
import type { JailDecision, JailInputs } from './jail-mode.js';
import { chooseLaunch, type VmmFiles } from './launch-strategy.js';
import { VmmLaunch, type LaunchDeps } from './vmm-launch.js';
import { fcPause, fcRestoreSteps, fcResume, fcRunState, fcSaveSnapshot, fcVersionOf } from './snapshot.js';
import { fcCheckLoadable, fcDescribe } from './snapshot-compat.js';
import { hasFlag, signalPid, waitForExit } from './launcher.js';
import { pidAlive as isAlive } from '../../base/pid.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { nullLogger, type Logger } from '../../base/log.js';
import { sleep } from '../../base/time.js';

export interface FirecrackerDriverOptions {
  runner: ProcessRunner;
  /** config.firecrackerBin (FIRECRACKER_BIN): a name on PATH or a path. */
  bin: string;
  logger?: Logger;
  /** Launch through sudo when not root (default true). */
  privileged?: boolean;
  /** Give up waiting for the API socket after this long (the SDK's 3 s). */
  socketTimeoutMs?: number;
  /** Per-request timeout for configuration calls (the SDK's 500 ms). */
  requestTimeoutMs?: number;
  /** Checked by available(); null skips the check (tests on hosts without KVM). */
  kvmPath?: string | null;
  /** Owner the API socket is handed back to after a sudo launch (default: us). */
  owner?: { uid: number; gid: number };
  /** How `firecracker --version` is asked (the engine and doctor remember it: base/probe.ts). */
  probe?: Probe;
  /** The jailer settings (firecrackerJailer, jailerBin, state dir), read per launch; absent: never. */
  jail?: () => JailInputs;
}

interface Tracked {
  spawned: SpawnedProcess;
  exit: { code: number | null; signal: string | null } | null;
}

export const ROOT_DRIVE_ID = 'rootfs';
export const NIC_ID = 'eth0';

export class FirecrackerDriver implements VmDriver {
  readonly backend: Backend = 'firecracker';
  private readonly runner: ProcessRunner;
  private readonly log: Logger;
  /** VMMs we launched, by real pid: their exit status is ours to know. */
  private readonly tracked = new Map<number, Tracked>();

  private readonly jail: JailSupport;

  constructor(private readonly o: FirecrackerDriverOptions) {
    this.runner = o.runner;
    this.log = o.logger ?? nullLogger;
    this.jail = new JailSupport(o.runner, o.jail ?? null);
  }

  private get viaSudo(): boolean {
    return (this.o.privileged ?? true) && !this.runner.isRoot;
  }

  private resolveBin(): string {
    const bin = which(this.o.bin) ?? this.o.bin;
    if (!this.viaSudo) return bin;
    // The entry point runs only the binary fixed in the policy, by its real path.
    try {
      return realpathSync(bin);
    } catch {
      return bin;
    }
  }

  available(): Promise<{ ok: boolean; reason: string; version?: string }> {
    // Jailed, the VMM opens the jail's own /dev/kvm node, made for its uid.
    const noKvmCheck = this.viaSudo || !!this.jail.decision().choice;
    return firecrackerAvailable(this.runner, this.o.bin, this.o.kvmPath, noKvmCheck, this.o.probe);
  }

  /** The boot: the launch the way its strategy says (direct, sudo, jailer), then the configuration calls. */
  bootSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
    const way = chooseLaunch({ runner: this.runner, bin: this.o.bin, viaSudo: this.viaSudo, jail: this.jail }, spec);
    const run = new VmmLaunch(this.launchDeps, way, spec, undo, handle);
    const files: VmmFiles = {
      kernel: spec.kernelPath,
      initrd: spec.initrdPath,
      rootfs: spec.rootfsPath,
      drives: spec.drives ?? [],
      metrics: spec.metricsPath,
    };
    const steps: BootStep[] = [
      { name: 'launch-vmm', run: () => run.launch() },
      { name: 'wait-socket', run: () => run.waitSocket() },
      ...this.configSteps(spec, run.client, files),
    ];
    return way.adapt(steps, run.client, files);
  }

  private get launchDeps(): LaunchDeps {
    return {
      runner: this.runner,
      log: this.log,
      socketTimeoutMs: this.o.socketTimeoutMs ?? 3000,
      requestTimeoutMs: this.o.requestTimeoutMs,
      owner: this.o.owner,
      kill: (pids, sig) => this.kill(pids, sig),
      track: (pid, spawned, exit) => {
        const tracked: Tracked = { spawned, exit };
        spawned.exited.then((e) => {
          tracked.exit = e;
        });
        this.tracked.set(pid, tracked);
      },
    };
  }

  /** The configuration calls in the Go SDK's order, then InstanceStart (files: in-jail paths once linked). */
  private configSteps(spec: LaunchSpec, client: FirecrackerClient, files: VmmFiles): BootStep[] {
    const vm = spec.vm;
    return [
      { name: 'metrics', run: () => client.putMetrics({ metrics_path: files.metrics }) },
      {
        name: 'machine-config',
        run: () =>
          client.putMachineConfig({
            vcpu_count: vm.vcpus,
            mem_size_mib: vm.memoryMib,
            smt: false,
            track_dirty_pages: false,
          }),
      },
      {
        name: 'boot-source',
        run: () =>
          client.putBootSource({
            kernel_image_path: files.kernel,
            boot_args: spec.bootArgs,
            ...(files.initrd ? { initrd_path: files.initrd } : {}),
          }),
      },
      {
        name: 'drives',
        run: async () => {
          await client.putDrive({
            drive_id: ROOT_DRIVE_ID,
            path_on_host: files.rootfs,
            is_root_device: true,
            is_read_only: false,
          });
          // In order after the root: the guest sees them as vdb, vdc, ... (the seed drive).
          for (const d of files.drives)
            await client.putDrive({
              drive_id: d.id,
              path_on_host: d.path,
              is_root_device: false,
              is_read_only: d.readOnly,
            });
        },
      },
      {
        name: 'network',
        run: async () => {
          if (!spec.tap) return; // no NIC: a VM without networking
          await client.putNetworkInterface({ iface_id: NIC_ID, host_dev_name: spec.tap, guest_mac: spec.mac });
        },
      },
      {
        name: 'instance-start',
        run: async () => {
          await client.instanceStart({ timeoutMs: Math.max(2000, this.o.requestTimeoutMs ?? 0) });
          client.close();
        },
      },
    ];
  }

  async stop(handle: VmmHandle, opts: { force?: boolean; timeoutMs: number }): Promise<ExitInfo> {
    const { pid, socketPath } = handle;
    const done = async (how: ExitInfo['how'], sentSignal: string | null): Promise<ExitInfo> => {
      const t = this.tracked.get(pid);
      let exitCode: number | null = null;
      let signal: string | null = sentSignal;
      if (t) {
        // Our child (or sudo, which passes on its child's status): its status is known.
        const e = t.exit ?? (await Promise.race([t.spawned.exited, sleep(500).then(() => null)]));
        if (e) {
          exitCode = e.code;
          signal = e.signal ?? (e.code === null ? sentSignal : null);
        }
        this.tracked.delete(pid);
      }
      rmSync(socketPath, { force: true });
      return { exitCode, signal, how };
    };

    if (!isAlive(pid)) return done('gone', null);
    if (!opts.force) {
      // Refused (aarch64, or the guest's i8042 not up yet): nothing will shut the guest down, so no wait.
      let asked = true;
      const client = new FirecrackerClient(socketPath);
      try {
        await client.sendCtrlAltDel();
      } catch (err) {
        asked = false;
        this.log.warn('SendCtrlAltDel refused; escalating at once', { pid, error: (err as Error).message });
      } finally {
        client.close();
      }
      if (asked && (await waitForExit(pid, opts.timeoutMs))) return done('graceful', null);
      await signalPid(this.runner, pid, 'TERM');
      if (await waitForExit(pid, 2000)) return done('term', 'SIGTERM');
    }
    await this.kill([pid], 'KILL');
    // A kill that did not take (sudo refused, EPERM) is a failure, never a stop.
    if (isAlive(pid)) throw new BangerError(ErrorCodes.VMM, `firecracker pid ${pid} is still alive after SIGKILL`);
    return done('kill', 'SIGKILL');
  }

  executable(): string {
    return this.resolveBin();
  }

  vmmOwners(): number[] {
    const me = process.getuid?.() ?? 0;
    return this.viaSudo ? [me, 0] : [me];
  }

  inJail(pid: number): boolean {
    return this.jail.inJail(pid);
  }
  vmmUid(vmId: string): number | null {
    return this.jail.vmmUid(vmId);
  }
  release(vmId: string): Promise<void> {
    return this.jail.release(vmId);
  }
  sweep(live: Set<string>): Promise<string[]> {
    return this.jail.sweep(live);
  }
  jailDecision(): JailDecision {
    return this.jail.decision();
  }

  ownsProcess(cmdline: string, vm: VmRecord): boolean {
    const argv = cmdline.split(/[\0\s]+/).filter(Boolean);
    return hasFlag(argv, '--id', vm.id) || (!!vm.socketPath && hasFlag(argv, '--api-sock', vm.socketPath));
  }

  pause(handle: VmmHandle): Promise<void> {
    return fcPause(handle);
  }
  resume(handle: VmmHandle): Promise<void> {
    return fcResume(handle);
  }
  runState(handle: VmmHandle): Promise<'running' | 'paused' | null> {
    return fcRunState(handle);
  }
  // Snapshot files live outside the jail, where a jailed VMM cannot reach them.
  saveSnapshot(handle: VmmHandle, files: SnapshotFiles): Promise<void> {
    return this.jail.inJail(handle.pid) ? Promise.reject(noJailedSnapshots()) : fcSaveSnapshot(handle, files);
  }
  async stampSnapshot(handle: VmmHandle, files: SnapshotFiles): Promise<VmmStamp> {
    const bin = which(this.o.bin) ?? this.o.bin;
    return {
      backend: 'firecracker',
      version: await fcVersionOf(handle),
      format: await fcDescribe(this.runner, bin, files.state),
    };
  }
  checkLoadable(files: SnapshotFiles, stamp: VmmStamp | null): Promise<void> {
    return fcCheckLoadable(
      this.runner,
      this.o.probe ?? directProbe(this.runner),
      which(this.o.bin) ?? this.o.bin,
      files,
      stamp,
      files.dir.split('/').pop() ?? '',
    );
  }
  restoreSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
    if (this.jail.decision().choice) return [{ name: 'launch-vmm', run: () => Promise.reject(noJailedSnapshots()) }];
    return fcRestoreSteps(spec, this.bootSteps(spec, undo, handle), NIC_ID);
  }

  async probe(handle: VmmHandle): Promise<boolean> {
    if (!isAlive(handle.pid)) return false;
    const client = new FirecrackerClient(handle.socketPath);
    try {
      const info = await client.getInstanceInfo();
      // "Not started": the engine died mid-boot; such a VMM is killed, not adopted.
      return info?.state === 'Running' || info?.state === 'Paused';
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  /** SIGKILL (or TERM) every pid given and wait briefly for them to go. */
  private async kill(pids: (number | null)[], sig: 'TERM' | 'KILL'): Promise<void> {
    const live = [...new Set(pids.filter((p): p is number => p !== null && p > 0))];
    for (const p of live) await signalPid(this.runner, p, sig).catch(() => {});
    for (const p of live) await waitForExit(p, 2000);
  }
}
