// The Firecracker VmDriver: launch the VMM (directly, or through sudo when not root), wait for
// its API socket, configure it in the Go SDK's order, start it; stop it Ctrl-Alt-Del first.
import { closeSync, existsSync, lstatSync, openSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { Backend, VmRecord } from '../api.js';
import type { ProcessRunner, SpawnedProcess } from '../../base/process.js';
import { directProbe, type Probe } from '../../base/probe.js';
import { SETUP_HINT, which } from '../../base/process.js';
import type { BootStep, ExitInfo, LaunchSpec, SnapshotFiles, VmDriver, VmmHandle } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import { createConsoleFifo, openFifoForVmm } from '../driver/console-fifo.js';
import { FirecrackerClient } from './client.js';
import { fcPause, fcRestoreSteps, fcResume, fcRunState, fcSaveSnapshot } from './snapshot.js';
import { findVmmUnder, hasFlag, signalPid, waitForExit } from './launcher.js';
import { refuseLiveSocket } from '../vm/vmm-process.js';
import { openConsoleSink, type ConsoleSink } from '../vm/console-relay.js';
import { pidAlive as isAlive } from '../../base/pid.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { nullLogger, type Logger } from '../../base/log.js';
import { readTail } from '../../base/fsutil.js';
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

  constructor(private readonly o: FirecrackerDriverOptions) {
    this.runner = o.runner;
    this.log = o.logger ?? nullLogger;
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

  async available(): Promise<{ ok: boolean; reason: string; version?: string }> {
    const bin = which(this.o.bin);
    if (!bin)
      return {
        ok: false,
        reason: `firecracker not found: "${this.o.bin}" is not on PATH (set firecrackerBin or FIRECRACKER_BIN)`,
      };
    const r = await (this.o.probe ?? directProbe(this.runner))([bin, '--version']);
    const m = /Firecracker v(\S+)/.exec(r.stdout);
    if (r.exitCode !== 0 || !m)
      return {
        ok: false,
        reason: `${bin} --version failed: ${(r.stderr || r.stdout).trim().split('\n')[0] || 'exit ' + r.exitCode}`,
      };
    const kvm = this.o.kvmPath === undefined ? '/dev/kvm' : this.o.kvmPath;
    if (kvm && !this.runner.isRoot && !this.viaSudo) {
      try {
        await access(kvm, constants.R_OK | constants.W_OK);
      } catch {
        return { ok: false, reason: `${kvm} is not read/write for this user (add it to the kvm group)`, version: m[1] };
      }
    } else if (kvm && !existsSync(kvm)) {
      return { ok: false, reason: `${kvm} does not exist (no KVM on this host)`, version: m[1] };
    }
    return { ok: true, reason: `Firecracker v${m[1]} at ${bin}`, version: m[1] };
  }

  // eslint-disable-next-line max-lines-per-function -- long before the lint existed; split when next touched
  bootSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
    const sock = spec.socketPath;
    const client = new FirecrackerClient(sock, { timeoutMs: this.o.requestTimeoutMs });
    let spawned: SpawnedProcess | null = null;
    let exit: { code: number | null; signal: string | null } | null = null;
    let realPid: number | null = null;

    const launch = async () => {
      // A stale socket makes Firecracker refuse to start; a live one is another VMM's: never ours to delete.
      await refuseLiveSocket(sock, spec.vm.name);
      rmSync(sock, { force: true });
      if (!existsSync(spec.consoleFifo)) {
        await createConsoleFifo(this.runner, spec.consoleFifo);
        undo.push('remove console fifo', () => rmSync(spec.consoleFifo, { force: true }));
      }
      prepareVmmFiles(spec);
      // The log is configured here, once: a PUT /logger as well fails "already initialized" on 1.4 and older.
      const argv = [
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
      const fifo = openFifoForVmm(spec.consoleFifo);
      let sink: ConsoleSink | null = null;
      try {
        // Console output through the capping relay: the cap holds with no engine running.
        sink = openConsoleSink(this.runner, spec.consoleLog, spec.consoleMaxBytes ?? 0);
        spawned = this.runner.spawn(argv, {
          stdio: [fifo, sink.stdio, sink.stdio],
          privileged: this.viaSudo,
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
        if (realPid === null && this.viaSudo && sp.pid > 0) realPid = findVmmUnder(sp.pid, sock);
        await this.kill([realPid, sp.pid], 'KILL');
        // Let Node reap our child, so no zombie outlives the undo.
        if (sp.pid > 0) await Promise.race([sp.exited, sleep(2000)]);
        rmSync(sock, { force: true });
      });
      if (sp.pid <= 0) {
        await sp.exited;
        throw new BangerError(ErrorCodes.VMM, `cannot run ${argv[0]}: not found or not executable`);
      }
      this.log.info('firecracker launched', { vm: spec.vm.id, pid: sp.pid, sudo: this.viaSudo });
    };

    const waitSocket = async () => {
      const sp = spawned!;
      const deadline = Date.now() + (this.o.socketTimeoutMs ?? 3000);
      let reclaimed = !this.viaSudo;
      for (;;) {
        if (exit) throw this.earlyExit(exit, spec);
        if (existsSync(sock)) {
          if (this.viaSudo && realPid === null) realPid = findVmmUnder(sp.pid, sock);
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
      if (realPid === null) realPid = this.viaSudo ? findVmmUnder(sp.pid, sock) : sp.pid;
      if (realPid === null)
        throw new BangerError(ErrorCodes.VMM, `cannot find the firecracker process under sudo (pid ${sp.pid})`);
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
      { name: 'metrics', run: () => client.putMetrics({ metrics_path: spec.metricsPath }) },
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
            kernel_image_path: spec.kernelPath,
            boot_args: spec.bootArgs,
            ...(spec.initrdPath ? { initrd_path: spec.initrdPath } : {}),
          }),
      },
      {
        name: 'drives',
        run: () =>
          client.putDrive({
            drive_id: ROOT_DRIVE_ID,
            path_on_host: spec.rootfsPath,
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
  saveSnapshot(handle: VmmHandle, files: SnapshotFiles): Promise<void> {
    return fcSaveSnapshot(handle, files);
  }
  restoreSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[] {
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

  private earlyExit(e: { code: number | null; signal: string | null }, spec: LaunchSpec): BangerError {
    const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    const last = lastLine(spec.consoleLog) || lastLine(spec.vmmLog);
    if (this.viaSudo) {
      // Through sudo, stderr is the console log: say what sudo or the entry point said.
      const refused = /banger-priv: refused: (.*) \[E_PRIV_REFUSED\]/.exec(last);
      if (refused)
        return new BangerError(
          ErrorCodes.PRIV_REFUSED,
          `the privileged entry point refused Firecracker: ${refused[1]}`,
        );
      if (/password is required|a terminal is required|not allowed to execute/i.test(last))
        return new BangerError(ErrorCodes.SUDO_REQUIRED, `not allowed to run Firecracker through sudo: ${SETUP_HINT}`);
    }
    return new BangerError(
      ErrorCodes.VMM,
      `firecracker ${how} before its API socket was ready${last ? ': ' + last : ''}`,
      { details: { exitCode: e.code, signal: e.signal } },
    );
  }
}

/**
 * Fresh log and metrics files per boot: Firecracker opens them without O_APPEND or O_TRUNC, so
 * it would write over the last boot's from offset 0. The last boot's log is kept as vmm.log.1.
 */
export function prepareVmmFiles(spec: LaunchSpec): void {
  try {
    if (statSync(spec.vmmLog).size > 0) renameSync(spec.vmmLog, `${spec.vmmLog}.1`);
  } catch {
    /* no log yet */
  }
  for (const f of [spec.vmmLog, spec.metricsPath]) closeSync(openSync(f, 'w', 0o600));
  closeSync(openSync(spec.consoleLog, 'a', 0o600));
}

/** The last line of a log (its first 300 characters), read from the file's last 64 KiB only. */
function lastLine(path: string): string {
  const lines = readTail(path, 64 * 1024)
    .trim()
    .split('\n')
    .filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
