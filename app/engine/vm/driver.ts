// What a VMM backend (Firecracker, QEMU) provides to the VM lifecycle. Everything else
// (leases, TAPs, DNS, disks, console tailing, reconcile) is shared by the engine.
import type { Backend, VmRecord } from '../api.js';
import type { UndoStack } from './undo.js';

/** Everything a driver needs to boot one VM; paths are already created by the engine. */
export interface LaunchSpec {
  vm: VmRecord;
  /** The VM's private dir (disk, sockets, logs live here). */
  dir: string;
  kernelPath: string;
  initrdPath: string | null;
  rootfsPath: string;
  /** Full kernel command line: banger defaults + ip= clause + user args. */
  bootArgs: string;
  tap: string | null;
  mac: string;
  /** The VMM's stdout/stderr (the serial console) goes to this file, never to a pipe. */
  consoleLog: string;
  /** Cap on the console log, enforced by a relay at the source (0 or absent: none). */
  consoleMaxBytes?: number;
  /** The VMM's stdin: a FIFO the engine writes keystrokes into. */
  consoleFifo: string;
  /** API socket (Firecracker) or QMP socket (QEMU). */
  socketPath: string;
  /** VMM's own log file (Firecracker --log-path). */
  vmmLog: string;
  metricsPath: string;
}

export interface VmmHandle {
  /** The real VMM pid (not sudo's). */
  pid: number;
  socketPath: string;
  /** Resolves when the VMM exits, when we spawned it in this process (absent after adoption). */
  exited?: Promise<{ code: number | null; signal: string | null }>;
}

export interface ExitInfo {
  exitCode: number | null;
  signal: string | null;
  /** How it ended: graceful (guest shut down), term, kill, or gone (already dead). */
  how: 'graceful' | 'term' | 'kill' | 'gone';
}

export interface BootStep {
  name: string;
  run(): Promise<void>;
}

export interface VmDriver {
  readonly backend: Backend;
  /** Can this host run it? reason explains either way (doctor). */
  available(): Promise<{ ok: boolean; reason: string; version?: string }>;
  /**
   * The named, ordered boot steps from "launch VMM" to "InstanceStart". Each acquisition pushes
   * its undo; the engine runs the steps, and on failure unwinds the stack and names the step.
   * `handle` is filled in by the launch step.
   */
  bootSteps(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[];
  /** Graceful stop (Ctrl-Alt-Del), then SIGTERM, then SIGKILL; force goes straight to SIGKILL. */
  stop(handle: VmmHandle, opts: { force?: boolean; timeoutMs: number }): Promise<ExitInfo>;
  /** Does this process command line belong to this VM? (reconcile) */
  ownsProcess(cmdline: string, vm: VmRecord): boolean;
  /** The binary a VMM of this backend runs (reconcile never touches a process running another). */
  executable(): string;
  /** The uids a VMM this engine launched runs as (ours; root when launched through sudo). */
  vmmOwners(): number[];
  /**
   * Is the VMM at handle alive, answering on its socket, and running its guest? (adoption: a
   * VMM that does not answer, or was never started, is killed, not adopted)
   */
  probe(handle: VmmHandle): Promise<boolean>;
}
