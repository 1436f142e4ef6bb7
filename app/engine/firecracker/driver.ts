// The Firecracker VmDriver: launch the VMM (directly, through the entry point when not root, or
// under the jailer), wait for its API socket, configure it in the Go SDK's order, start it;
// stop it Ctrl-Alt-Del first.
import { closeSync, existsSync, lstatSync, realpathSync, rmSync } from 'node:fs';
import type { Backend, VmRecord } from '../../contract/api.js';
import type { ProcessRunner, SpawnedProcess } from '../../base/process.js';
import type { Probe } from '../../base/probe.js';
import { which } from '../../base/process.js';
import type { BootStep, ExitInfo, LaunchSpec, SnapshotFiles, VmDriver, VmmHandle } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import { createConsoleFifo, openFifoForVmm } from '../driver/console-fifo.js';
import { FirecrackerClient } from './client.js';
import { earlyExit, firecrackerAvailable, prepareVmmFiles } from './vmm-files.js';
import { JailSupport, noJailedSnapshots, type JailedBoot } from './jail-launch.js';
import type { JailDecision, JailInputs } from './jail-mode.js';
import { IN_JAIL } from './jailer.js';
import { fcPause, fcRestoreSteps, fcResume, fcRunState, fcSaveSnapshot } from './snapshot.js';
import { findVmmByFlags, findVmmUnder, hasFlag, signalPid, waitForExit } from './launcher.js';
import { refuseLiveSocket } from '../driver/vmm-process.js';
import { openConsoleSink, type ConsoleSink } from '../driver/console-relay.js';
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

  // eslint-disable-next-line max-lines-per-function -- long before the lint existed; split when next touched
  bootSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
    let jail: JailedBoot | null = null;
    let jailError: unknown = null;
    try {
      jail = this.jail.plan(spec.vm.id);
    } catch (err) {
      jailError = err;
    }
    // Jailed: the socket is in the chroot, named there by its in-jail path; the VMM runs as us.
    const sock = jail ? jail.layout.socketOnHost : spec.socketPath;
    const argSock = jail ? IN_JAIL.socket : sock;
    const sudoed = jail ? jail.viaEntry : this.viaSudo;
    const files = {
      kernel: spec.kernelPath,
      initrd: spec.initrdPath,
      rootfs: spec.rootfsPath,
      metrics: spec.metricsPath,
    };
    const client = new FirecrackerClient(sock, { timeoutMs: this.o.requestTimeoutMs });
    let spawned: SpawnedProcess | null = null;
    let exit: { code: number | null; signal: string | null } | null = null;
    let realPid: number | null = null;
    // Through the entry point, the VMM is left running by itself (not under sudo): found by its flags.
    let detached = false;
    const findVmm = () => (detached ? findVmmByFlags(argSock, spec.vm.id) : findVmmUnder(spawned?.pid ?? -1, argSock));

    const launch = async () => {
      if (jailError) throw jailError;
      // A stale socket makes Firecracker refuse to start; a live one is another VMM's: never ours to delete.
      await refuseLiveSocket(sock, spec.vm.name);
      rmSync(sock, { force: true });
      if (jail) {
        // A jail a crash left behind would be reused by the jailer: never; and it goes after the VM.
        await this.jail.remove(jail, spec.vm.id);
        undo.push('remove jail', () => this.jail.remove(jail!, spec.vm.id));
      }
      if (!existsSync(spec.consoleFifo)) {
        await createConsoleFifo(this.runner, spec.consoleFifo);
        undo.push('remove console fifo', () => rmSync(spec.consoleFifo, { force: true }));
      }
      prepareVmmFiles(spec);
      // The log is configured here, once: a PUT /logger as well fails "already initialized" on 1.4 and older.
      const argv = jail?.argv ?? [
        this.resolveBin(),
        '--api-sock',
        sock,
        '--id',
        spec.vm.id,
        '--log-path',
        spec.vmmLog,
        '--level',
        'Info',
        '--show-level',
      ];
      detached = sudoed && !!this.runner.entryVerb?.(argv);
      const fifo = openFifoForVmm(spec.consoleFifo);
      let sink: ConsoleSink | null = null;
      try {
        // Console output through the capping relay: the cap holds with no engine running.
        sink = openConsoleSink(this.runner, spec.consoleLog, spec.consoleMaxBytes ?? 0);
        spawned = this.runner.spawn(argv, {
          stdio: [fifo, sink.stdio, sink.stdio],
          privileged: sudoed,
          detached: true,
        });
      } finally {
        closeSync(fifo);
        sink?.release();
      }
      const sp = spawned;
      sp.exited.then((e) => {
        exit = e;
      });
      handle.current = { pid: sp.pid, socketPath: sock };
      undo.push('kill firecracker', async () => {
        client.close();
        // Under sudo, SIGKILL to sudo is not relayed: find and kill the VMM itself first.
        if (realPid === null && sudoed && sp.pid > 0) realPid = findVmm();
        await this.kill([realPid, sp.pid], 'KILL');
        // Let Node reap our child, so no zombie outlives the undo.
        if (sp.pid > 0) await Promise.race([sp.exited, sleep(2000)]);
        rmSync(sock, { force: true });
      });
      if (sp.pid <= 0) {
        await sp.exited;
        throw new BangerError(ErrorCodes.VMM, `cannot run ${argv[0]}: not found or not executable`);
      }
      this.log.info('firecracker launched', { vm: spec.vm.id, pid: sp.pid, sudo: sudoed, jailed: !!jail });
    };

    const waitSocket = async () => {
      const sp = spawned!;
      const deadline = Date.now() + (this.o.socketTimeoutMs ?? 3000);
      // Jailed, the VMM runs as us and its socket is ours already.
      let reclaimed = !sudoed || !!jail;
      for (;;) {
        // The entry point exits 0 once the VMM it left running made its socket.
        if (exit && !(detached && exit.code === 0)) throw earlyExit(exit, spec, sudoed);
        if (existsSync(sock)) {
          if (sudoed && realPid === null) realPid = findVmm();
          if (!reclaimed) {
            // The socket belongs to root: hand it back so the engine (and a later engine) can connect.
            const { uid, gid } = this.o.owner ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
            // The dir is user-writable and chown runs as root: only a socket, never through a symlink (-h).
            if (!lstatSync(sock, { throwIfNoEntry: false })?.isSocket()) {
              throw new BangerError(
                ErrorCodes.VMM,
                `refusing to chown ${sock}: not a socket (replaced by something else?)`,
              );
            }
            await this.runner.run(['chown', '-h', `${uid}:${gid}`, sock], { privileged: true });
            reclaimed = true;
          }
          try {
            await client.getMachineConfig({ timeoutMs: 200 });
            break;
          } catch {
            /* not serving yet */
          }
        }
        if (Date.now() >= deadline) {
          throw new BangerError(
            ErrorCodes.TIMEOUT,
            `firecracker API socket not ready after ${this.o.socketTimeoutMs ?? 3000} ms: ${sock}`,
          );
        }
        await sleep(10);
      }
      if (realPid === null) realPid = sudoed ? findVmm() : sp.pid;
      if (realPid === null)
        throw new BangerError(ErrorCodes.VMM, `cannot find the firecracker process under sudo (pid ${sp.pid})`);
      if (detached) {
        handle.current = { pid: realPid, socketPath: sock }; // not our child: its exit is polled
        return;
      }
      const tracked: Tracked = { spawned: sp, exit };
      sp.exited.then((e) => {
        tracked.exit = e;
      });
      this.tracked.set(realPid, tracked);
      // sudo passes the VMM's exit status on, so sp.exited describes the VMM either way.
      handle.current = {
        pid: realPid,
        socketPath: sock,
        exited: sp.exited.then((e) => ({ code: e.code, signal: e.signal })),
      };
    };

    const vm = spec.vm;
    return [
      { name: 'launch-vmm', run: launch },
      { name: 'wait-socket', run: waitSocket },
      ...(jail ? this.jail.bootSteps(jail, spec, client, files) : []),
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
        run: () =>
          client.putDrive({
            drive_id: ROOT_DRIVE_ID,
            path_on_host: files.rootfs,
            is_root_device: true,
            is_read_only: false,
          }),
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
