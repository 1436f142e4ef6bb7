// The engine's contract: records, methods and the event union. Front ends (screens, CLI,
// control server) see only app/contract/ (this file, the VM facts and the pure validators), so
// the in-process engine and the socket client are interchangeable. Records are plain data: no
// clients, no methods.

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
}

export interface ImageRecord {
  name: string;
  source: string;
  path: string;
  sizeBytes: number;
  sha256: string;
  buildLog: string | null;
  /** The guest's init, recorded at build or import: it sets the graceful-stop wait. */
  init?: ImageInit | null;
  createdAt: string;
}

export type ImageInit = 'busybox' | 'systemd' | 'other';

export interface KernelRecord {
  name: string;
  path: string;
  initrdPath: string | null;
  source: string;
  version: string | null;
  createdAt: string;
}

export interface LeaseRecord {
  ip: string;
  vmId: string;
  createdAt: string;
}

export interface EventRecord {
  id: number;
  at: string;
  kind: string;
  subject: string;
  message: string;
}

export interface DnsRecord {
  name: string; // fully qualified, e.g. dev.vm.
  type: 'A';
  value: string;
  ttl: number;
  vm: string;
}

export interface DnsListenerStatus {
  address: string;
  port: number;
  protocols: string[];
  up: boolean;
  error: string | null;
  forwards: boolean;
  /** UDP path: 'native' (batched thread, native/dns-udp) or 'dgram' (node:dgram on the JS thread). */
  udp?: 'native' | 'dgram';
  /** Down because another process holds the port: its owner (from the kernel's socket tables). */
  heldBy?: { uid: number; user: string | null };
}

/**
 * The resolvers a VM starting now is given (in its ip= clause): `gateway` while the guest
 * listener is up; `host`, the host's own resolvers, while it is down; `gateway-down` when it
 * is down and the host has none a guest can reach.
 */
export interface GuestResolvers {
  via: 'gateway' | 'host' | 'gateway-down';
  servers: string[];
}

export interface DnsStatus {
  zone: string;
  records: number;
  listeners: DnsListenerStatus[];
  /** Present once the guest-facing listener was started (the first VM with a network). */
  guests?: GuestResolvers;
}

export interface EngineStatus {
  pid: number;
  startedAt: string;
  uptimeSec: number;
  buildId: string;
  mode: 'embedded' | 'attached' | 'detached';
  controlSocket: string | null;
  stateDir: string;
  dns: DnsStatus;
  vms: Record<VmState, number> & { total: number };
  backends: { name: Backend; available: boolean; reason: string }[];
  defaultBackend: Backend;
  /**
   * Settings not at their default and where each came from: `config` (config.json), `env`
   * (the environment of whoever started this engine: `banger --detach`, `engine serve`, the
   * TUI), `override` (set by the embedding code). An engine a CLI verb starts on demand reads
   * config.json only.
   */
  settings?: { key: string; value: unknown; source: SettingOrigin }[];
}

export type SettingOrigin = 'config' | 'env' | 'override' | 'policy';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  defaultBackend: Backend;
}

export interface SshInfo {
  ip: string;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  /** The full ssh argv (without a remote command). */
  argv: string[];
}

export interface ImageBuildInput {
  name: string;
  from: string;
  size?: string | number;
  packages?: string[];
}

export interface ImageImportInput {
  name: string;
  path: string;
  size?: string | number;
}

export interface KernelAddInput {
  name: string;
  path: string;
  initrd?: string;
}

export interface BuildProgress {
  id: string;
  kind: 'image' | 'kernel';
  name: string;
  phase: string;
  percent: number;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  error: string | null;
  logPath: string | null;
  /** ISO times: when the build began and, once it ended, when. */
  startedAt: string;
  endedAt: string | null;
}

export interface VmSample {
  vmId: string;
  name: string;
  at: number; // ms epoch
  cpuPct: number;
  rssBytes: number;
  rxBytes: number;
  txBytes: number;
  rxBps: number;
  txBps: number;
  diskBytes: number;
}

export interface HostSample {
  at: number;
  cpuPct: number;
  memTotalBytes: number;
  memUsedBytes: number;
  memCommittedBytes: number;
  vmsByState: Record<VmState, number>;
  dnsQps: Record<string, number>;
}

export interface MetricsSnapshot {
  host: HostSample[];
  vms: Record<string, VmSample[]>;
}

export interface ReconcileReport {
  adopted: string[];
  stopped: string[];
  orphansRemoved: string[];
}

export type EngineEvent =
  | { type: 'vm'; vm: VmRecord }
  | { type: 'vm-removed'; id: string; name: string }
  | { type: 'snapshots'; vm: string }
  | { type: 'image'; image: ImageRecord }
  | { type: 'image-removed'; name: string }
  | { type: 'kernel'; kernel: KernelRecord }
  | { type: 'kernel-removed'; name: string }
  | { type: 'build'; build: BuildProgress }
  | { type: 'build-log'; buildId: string; chunk: string }
  | { type: 'dns'; records: number }
  | { type: 'log'; line: string }
  | { type: 'metrics'; host: HostSample; vms: VmSample[] };

export type Unsubscribe = () => void;

export interface StopOptions {
  force?: boolean;
  timeoutMs?: number;
  /** Suspend: write memory and devices to disk and end the VMM; the next start restores them. */
  save?: boolean;
}

/** What every front end talks to. Implemented by the Engine and by the control client. */
export interface EngineApi {
  status(): Promise<EngineStatus>;
  doctor(): Promise<DoctorReport>;

  listVms(): Promise<VmRecord[]>;
  getVm(name: string): Promise<VmRecord>;
  createVm(input: VmCreateInput): Promise<VmRecord>;
  startVm(name: string): Promise<VmRecord>;
  stopVm(name: string, opts?: StopOptions): Promise<VmRecord>;
  restartVm(name: string): Promise<VmRecord>;
  /** A stopped VM's copy under a new name: its own MAC, IP and DNS record, a copy of the disk. */
  cloneVm(source: string, name: string): Promise<VmRecord>;
  removeVm(name: string, opts?: { force?: boolean }): Promise<void>;
  sshInfo(name: string): Promise<SshInfo>;
  /** Freeze the guest's vCPUs (the VMM, its TAP and DNS record stay). */
  pauseVm(name: string): Promise<VmRecord>;
  resumeVm(name: string): Promise<VmRecord>;
  /** Snapshot a running or paused VM; snap defaults to a timestamp name. */
  snapshotVm(name: string, snap?: string): Promise<SnapshotRecord>;
  listSnapshots(name: string): Promise<SnapshotRecord[]>;
  /** Put the VM back to a snapshot (stopping what runs); it comes back running. */
  restoreVm(name: string, snap: string): Promise<VmRecord>;
  removeSnapshot(name: string, snap: string): Promise<void>;

  consoleTail(name: string, maxBytes?: number): Promise<Buffer>;
  /** Live console bytes; resolves once the subscription is in place. */
  subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe>;
  sendConsole(name: string, data: Buffer | string): Promise<void>;

  listImages(): Promise<ImageRecord[]>;
  buildImage(input: ImageBuildInput): Promise<ImageRecord>;
  importImage(input: ImageImportInput): Promise<ImageRecord>;
  removeImage(name: string): Promise<void>;
  /** Register a stopped VM's disk as a new image (image shell --save-as). */
  imageFromVm(input: ImageFromVmInput): Promise<ImageRecord>;
  listBuilds(): Promise<BuildProgress[]>;
  cancelBuild(id: string): Promise<void>;

  listKernels(): Promise<KernelRecord[]>;
  addKernel(input: KernelAddInput): Promise<KernelRecord>;
  fetchKernel(name: string): Promise<KernelRecord>;
  buildKernel(name: string): Promise<KernelRecord>;
  removeKernel(name: string): Promise<void>;

  dnsRecords(): Promise<DnsRecord[]>;
  events(limit?: number): Promise<EventRecord[]>;
  engineLog(lines?: number): Promise<string[]>;
  reconcile(): Promise<ReconcileReport>;
  /** Sample history; last: keep only the newest N samples per series (keeps the wire small). */
  metrics(opts?: { last?: number }): Promise<MetricsSnapshot>;

  /** Engine events (VM/image/DNS changes, build progress, metrics). */
  subscribe(listener: (e: EngineEvent) => void): Unsubscribe;

  /** Stop the engine; VMs keep running unless stopVms. purge also removes the bridge and NAT. */
  shutdown(opts?: { stopVms?: boolean; purge?: boolean }): Promise<void>;
}

/** The streams: written by hand in each forwarding layer. */
export type StreamMethod = 'subscribe' | 'subscribeConsole';
export type EngineMethod = Exclude<keyof EngineApi, StreamMethod>;

/** 'void' for a Promise<void> method (its null on the wire becomes undefined), else 'value'. */
type Answer<M extends EngineMethod> = Awaited<ReturnType<EngineApi[M]>> extends void ? 'void' : 'value';

/**
 * The one method table: each EngineApi method that is a plain request and answer, and whether
 * it answers a value or nothing. Forwarding layers are derived from it (engine-methods.ts).
 * Exhaustive by type: a method added to EngineApi and missing here fails the build.
 */
export const ENGINE_METHOD_TABLE = {
  status: 'value',
  doctor: 'value',
  listVms: 'value',
  getVm: 'value',
  createVm: 'value',
  startVm: 'value',
  stopVm: 'value',
  restartVm: 'value',
  cloneVm: 'value',
  removeVm: 'void',
  sshInfo: 'value',
  pauseVm: 'value',
  resumeVm: 'value',
  snapshotVm: 'value',
  listSnapshots: 'value',
  restoreVm: 'value',
  removeSnapshot: 'void',
  imageFromVm: 'value',
  consoleTail: 'value',
  sendConsole: 'void',
  listImages: 'value',
  buildImage: 'value',
  importImage: 'value',
  removeImage: 'void',
  listBuilds: 'value',
  cancelBuild: 'void',
  listKernels: 'value',
  addKernel: 'value',
  fetchKernel: 'value',
  buildKernel: 'value',
  removeKernel: 'void',
  dnsRecords: 'value',
  events: 'value',
  engineLog: 'value',
  reconcile: 'value',
  metrics: 'value',
  shutdown: 'void',
} as const satisfies { [M in EngineMethod]: Answer<M> };
