// The VM records of the engine's contract: states, the VM, its snapshots and suspended state,
// and what creating one takes. Re-exported by api.ts, which front ends import.
import type { MountSpec, PortSpec } from './vm-extras.js';

export type VmState = 'created' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'error';
export const VM_STATES: readonly VmState[] = [
  'created',
  'starting',
  'running',
  'paused',
  'stopping',
  'stopped',
  'error',
];
/** States in which a VMM process runs (a paused one keeps its process, DNS record and TAP). */
export const LIVE_STATES: readonly VmState[] = ['running', 'paused'];
export type Backend = 'firecracker' | 'qemu';
export const BACKENDS: readonly Backend[] = ['firecracker', 'qemu'];
/** What `image build --from` accepts (the build form offers the same list). */
export const IMAGE_SOURCES: readonly string[] = ['busybox', 'debian:bookworm'];

export interface VmRecord {
  id: string;
  name: string;
  backend: Backend;
  image: string | null;
  kernel: string | null;
  vcpus: number;
  memoryMib: number;
  diskBytes: number;
  /** Extra kernel arguments, appended to banger's defaults. */
  bootArgs: string;
  mac: string;
  ip: string | null;
  state: VmState;
  pid: number | null;
  socketPath: string | null;
  tap: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
  lastError: string | null;
  exitCode: number | null;
  exitSignal: string | null;
  /** The VMM's start time (/proc/PID/stat field 22): with pid, names the process beyond pid reuse. */
  pidStartTime?: number | null;
  /** Graceful-stop wait for this VM (ms); null: from the image's init (see stopTimeoutFor). */
  stopTimeoutMs?: number | null;
  /** Set while the VM is suspended (vm stop --save): the next start restores this state. */
  suspended?: SuspendInfo | null;
  /** Shared folders, mounted in the guest at each boot (vm create --mount, vm mount). */
  mounts?: MountSpec[];
  /** Published ports (vm create --publish, vm port). */
  ports?: PortSpec[];
  /** First-boot config (cloud-config or a #! script), as given at create. */
  userData?: string | null;
  /** Extra authorized keys for the guest's root (vm create --ssh-key), one public key each. */
  sshKeys?: string[];
  /** Start the image's Entrypoint/Cmd as a supervised service at boot (vm create --run). */
  run?: boolean;
}

/** What wrote a snapshot's state: checked before any load, so a restore never starts blind. */
export interface VmmStamp {
  backend: Backend;
  /** The VMM's version (Firecracker 1.16.1, QEMU 7.2.19). */
  version: string;
  /** The state file's format: Firecracker's data format version, QEMU's machine type. */
  format: string | null;
}

/** A file as it was when a VM was suspended: any change means the saved memory no longer fits. */
export interface FileMark {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** A suspended VM's saved state (memory and devices; the disk stays where it is). */
export interface SuspendInfo {
  at: string;
  sizeBytes: number;
  stamp: VmmStamp;
  disk: FileMark;
  kernel: FileMark;
  /** The image's name and checksum at the save (a rebuilt image is another image). */
  image: string | null;
  imageSha: string | null;
  memoryMib: number;
  vcpus: number;
}

/** A kept VM state: memory + device state + a copy of the disk, taken while paused. */
export interface SnapshotRecord {
  vm: string;
  name: string;
  backend: Backend;
  /** The snapshot this VM was last restored from or taken after, when there is one. */
  parent: string | null;
  /** Bytes on disk (allocated blocks of the memory, state and disk files). */
  sizeBytes: number;
  /** The VM's memory and vCPUs when it was taken: a restore needs the same. */
  memoryMib: number;
  vcpus: number;
  createdAt: string;
  /** The VMM version and state format it was written with (null: taken before banger recorded it). */
  stamp?: VmmStamp | null;
}

export interface ImageFromVmInput {
  /** A stopped VM whose disk becomes the image. */
  vm: string;
  name: string;
}

export interface VmCreateInput {
  name: string;
  image?: string;
  kernel?: string;
  vcpus?: number;
  memoryMib?: number;
  /** Bytes, or a size string like 512M / 4G. */
  disk?: string | number;
  backend?: Backend | string;
  bootArgs?: string;
  /** Graceful-stop wait in ms (default: from the image's init). */
  stopTimeoutMs?: number;
  start?: boolean;
  /** First-boot config: the --user-data file's content (#cloud-config or a #! script), at most 1 MiB. */
  userData?: string;
  /** Public keys (each --ssh-key file's text) root's authorized_keys gets at every boot. */
  sshKeys?: string[];
  /** Shared folders, raw `HOSTDIR[:GUESTDIR][:ro]` specs with absolute host dirs (app/contract/mounts.ts). */
  mounts?: string[];
  /** Published ports, raw `[ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]` specs (contract/port-spec.ts). */
  publish?: string[];
  /** Start the image's Entrypoint/Cmd as a supervised service at every boot (E_NO_RUN_COMMAND without one). */
  run?: boolean;
}
