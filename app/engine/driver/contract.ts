// What a VMM backend (Firecracker, QEMU) provides to the VM lifecycle. Everything else
// (leases, TAPs, DNS, disks, console tailing, reconcile) is shared by the engine.
import type { Backend, VmmStamp, VmRecord } from '../../contract/api.js';
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
  /**
   * Block devices after the root disk, in order (the guest sees them as vdb, vdc, ...): the
   * per-VM seed drive (app/engine/vm/seed/). Absent or empty: the root disk only.
   */
  drives?: ExtraDrive[];
  /** Set when the VM comes back from a snapshot instead of booting (the VMM waits for its state). */
  restoreFrom?: SnapshotFiles;
}

/** A block device after the root disk. */
export interface ExtraDrive {
  /** Firecracker's drive_id and QEMU's drive id: [A-Za-z0-9_] only (Firecracker's rule). */
  id: string;
  path: string;
  readOnly: boolean;
}

/** One snapshot's files. The driver writes state (and memory); the engine copies the disk. */
export interface SnapshotFiles {
  dir: string;
  /** Firecracker's microVM state file, or QEMU's migration stream (memory included). */
  state: string;
  /** Firecracker's guest memory file (QEMU keeps memory in the stream). */
  memory: string;
  disk: string;
  /** A Unix socket path for streaming the state (QEMU migration), in the VM's runtime dir. */
  channel: string;
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
  /** The uid this VM's VMM will run as when not the engine's (a root engine's jailed VMM): its TAP is made for it. */
  vmmUid?(vmId: string): number | null;
  /** Does this process live in one of the backend's jails (Firecracker's jailer: the binary is a copy)? */
  inJail?(pid: number): boolean;
  /** After the VMM of vmId is gone (stop, exit, reconcile): remove what the driver made for it (a jail). */
  release?(vmId: string): Promise<void>;
  /** Reconcile: remove what the driver made for VMs not in `live` (a dead engine's jails); what went. */
  sweep?(live: Set<string>): Promise<string[]>;
  /**
   * Is the VMM at handle alive, answering on its socket, and running its guest? (adoption: a
   * VMM that does not answer, or was never started, is killed, not adopted)
   */
  probe(handle: VmmHandle): Promise<boolean>;
  /** Freeze the guest's vCPUs; the VMM process, its TAP and sockets stay. */
  pause?(handle: VmmHandle): Promise<void>;
  resume?(handle: VmmHandle): Promise<void>;
  /** Is the guest running or paused? null: the VMM does not say (adoption). */
  runState?(handle: VmmHandle): Promise<'running' | 'paused' | null>;
  /** Write a paused guest's state to files.state (and files.memory); the guest stays paused. */
  saveSnapshot?(handle: VmmHandle, files: SnapshotFiles): Promise<void>;
  /** The VMM version and state format of what saveSnapshot just wrote (recorded with it). */
  stampSnapshot?(handle: VmmHandle, files: SnapshotFiles): Promise<VmmStamp>;
  /**
   * Can the VMM on this host load files (written under stamp)? Throws E_SNAPSHOT_INCOMPATIBLE
   * saying why. Starts no VM and changes nothing: it runs before a restore touches anything.
   */
  checkLoadable?(files: SnapshotFiles, stamp: VmmStamp | null): Promise<void>;
  /**
   * Steps that bring a VM back from spec.restoreFrom instead of booting it: launch the VMM,
   * load the state, resume. Same undo and handle contract as bootSteps.
   */
  restoreSteps?(spec: LaunchSpec, undo: UndoStack, handle: { current: VmmHandle | null }): BootStep[];
}
