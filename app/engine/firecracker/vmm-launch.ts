// One Firecracker VMM being started, its state on this object (not in closure locals shared
// by the steps): spawn it the way its strategy says, wait for its API socket (handing a root
// socket back to us), find the real VMM's pid, and the undo that kills it again.
import { closeSync, existsSync, lstatSync, rmSync } from 'node:fs';
import type { ProcessRunner, SpawnedProcess } from '../../base/process.js';
import type { LaunchSpec, VmmHandle } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import { createConsoleFifo, openFifoForVmm } from '../driver/console-fifo.js';
import { refuseLiveSocket } from '../driver/vmm-process.js';
import { openConsoleSink, type ConsoleSink } from '../driver/console-relay.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import { sleep } from '../../base/time.js';
import { FirecrackerClient } from './client.js';
import { earlyExit, prepareVmmFiles } from './vmm-files.js';
import type { LaunchStrategy, SpawnFacts } from './launch-strategy.js';

export type ExitStatus = { code: number | null; signal: string | null };

export interface LaunchDeps {
  runner: ProcessRunner;
  log: Logger;
  socketTimeoutMs: number;
  requestTimeoutMs?: number;
  owner?: { uid: number; gid: number };
  /** SIGKILL (or TERM) these pids and wait briefly (the driver's). */
  kill(pids: (number | null)[], sig: 'TERM' | 'KILL'): Promise<void>;
  /** A VMM we spawned and that is our child (or sudo's): its exit status is ours to know. */
  track(pid: number, spawned: SpawnedProcess, exit: ExitStatus | null): void;
}

export class VmmLaunch {
  readonly client: FirecrackerClient;
  private spawned: SpawnedProcess | null = null;
  private exit: ExitStatus | null = null;
  private realPid: number | null = null;
  private detached = false;

  constructor(
    private readonly d: LaunchDeps,
    private readonly s: LaunchStrategy,
    private readonly spec: LaunchSpec,
    private readonly undo: UndoStack,
    private readonly handle: { current: VmmHandle | null },
  ) {
    this.client = new FirecrackerClient(s.socket, { timeoutMs: d.requestTimeoutMs });
  }

  private facts(): SpawnFacts {
    return { spawnedPid: this.spawned?.pid ?? -1, detached: this.detached };
  }

  async launch(): Promise<void> {
    const { spec, s, undo } = this;
    if (s.refusal) throw s.refusal;
    // A stale socket makes Firecracker refuse to start; a live one is another VMM's: never ours to delete.
    await refuseLiveSocket(s.socket, spec.vm.name);
    rmSync(s.socket, { force: true });
    await s.prepare(undo);
    if (!existsSync(spec.consoleFifo)) {
      await createConsoleFifo(this.d.runner, spec.consoleFifo);
      undo.push('remove console fifo', () => rmSync(spec.consoleFifo, { force: true }));
    }
    prepareVmmFiles(spec);
    const sp = this.spawn(s.argv());
    undo.push('kill firecracker', () => this.killVmm(sp));
    if (sp.pid <= 0) {
      await sp.exited;
      throw new BangerError(ErrorCodes.VMM, `cannot run ${s.argv()[0]}: not found or not executable`);
    }
    this.d.log.info('firecracker launched', { vm: spec.vm.id, pid: sp.pid, sudo: s.privileged, way: s.name });
  }

  private spawn(argv: string[]): SpawnedProcess {
    const { spec, s } = this;
    this.detached = s.privileged && !!this.d.runner.entryVerb?.(argv);
    const fifo = openFifoForVmm(spec.consoleFifo);
    let sink: ConsoleSink | null = null;
    try {
      // Console output through the capping relay: the cap holds with no engine running.
      sink = openConsoleSink(this.d.runner, spec.consoleLog, spec.consoleMaxBytes ?? 0);
      this.spawned = s.spawnWith(() =>
        this.d.runner.spawn(argv, {
          stdio: [fifo, sink!.stdio, sink!.stdio],
          privileged: s.privileged,
          detached: true,
        }),
      );
    } finally {
      closeSync(fifo);
      sink?.release();
    }
    const sp = this.spawned;
    sp.exited.then((e) => {
      this.exit = e;
    });
    this.handle.current = { pid: sp.pid, socketPath: s.socket };
    return sp;
  }

  private async killVmm(sp: SpawnedProcess): Promise<void> {
    this.client.close();
    // Under sudo, SIGKILL to sudo is not relayed: find and kill the VMM itself first.
    if (this.realPid === null && this.s.privileged && sp.pid > 0) this.realPid = this.s.findVmm(this.facts());
    await this.d.kill([this.realPid, sp.pid], 'KILL');
    // Let Node reap our child, so no zombie outlives the undo.
    if (sp.pid > 0) await Promise.race([sp.exited, sleep(2000)]);
    rmSync(this.s.socket, { force: true });
  }

  async waitSocket(): Promise<void> {
    const { s, spec } = this;
    const timeout = this.d.socketTimeoutMs;
    const deadline = Date.now() + timeout;
    let reclaimed = !s.chownSocket;
    for (;;) {
      // The entry point exits 0 once the VMM it left running made its socket.
      if (this.exit && !(this.detached && this.exit.code === 0)) throw earlyExit(this.exit, spec, s.privileged);
      if (existsSync(s.socket)) {
        if (s.privileged && this.realPid === null) this.realPid = s.findVmm(this.facts());
        if (!reclaimed) reclaimed = await this.reclaimSocket();
        if (await this.serving()) break;
      }
      if (Date.now() >= deadline)
        throw new BangerError(ErrorCodes.TIMEOUT, `firecracker API socket not ready after ${timeout} ms: ${s.socket}`);
      await sleep(10);
    }
    this.adopt();
  }

  private async serving(): Promise<boolean> {
    try {
      await this.client.getMachineConfig({ timeoutMs: 200 });
      return true;
    } catch {
      return false; // not serving yet
    }
  }

  /** The socket belongs to root: hand it back so the engine (and a later engine) can connect. */
  private async reclaimSocket(): Promise<boolean> {
    const sock = this.s.socket;
    const { uid, gid } = this.d.owner ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    // The dir is user-writable and chown runs as root: only a socket, never through a symlink (-h).
    if (!lstatSync(sock, { throwIfNoEntry: false })?.isSocket())
      throw new BangerError(ErrorCodes.VMM, `refusing to chown ${sock}: not a socket (replaced by something else?)`);
    await this.d.runner.run(['chown', '-h', `${uid}:${gid}`, sock], { privileged: true });
    return true;
  }

  /** The socket answers: the real VMM's pid becomes the handle's; our child's exit is tracked. */
  private adopt(): void {
    const sp = this.spawned!;
    if (this.realPid === null) this.realPid = this.s.findVmm(this.facts());
    if (this.realPid === null)
      throw new BangerError(ErrorCodes.VMM, `cannot find the firecracker process under sudo (pid ${sp.pid})`);
    const pid = this.realPid;
    if (this.detached) {
      this.handle.current = { pid, socketPath: this.s.socket }; // not our child: its exit is polled
      return;
    }
    this.d.track(pid, sp, this.exit);
    // sudo passes the VMM's exit status on, so sp.exited describes the VMM either way.
    const exited = sp.exited.then((e) => ({ code: e.code, signal: e.signal }));
    this.handle.current = { pid, socketPath: this.s.socket, exited };
  }
}
