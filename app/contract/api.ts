// The engine's contract: records, methods and the event union. Front ends (screens, CLI,
// control server) see only app/contract/ (this file, the VM facts and the pure validators), so
// the in-process engine and the socket client are interchangeable. Records are plain data: no
// clients, no methods.

export * from './vm-records.js';
export * from './vm-extras.js';
import type { ImageConfig } from './vm-extras.js';
import type { Backend, ImageFromVmInput, SnapshotRecord, VmCreateInput, VmRecord, VmState } from './vm-records.js';

export interface ImageRecord {
  name: string;
  source: string;
  path: string;
  sizeBytes: number;
  sha256: string;
  buildLog: string | null;
  /** The guest's init, recorded at build or import: it sets the graceful-stop wait. */
  init?: ImageInit | null;
  /** An OCI image's config (env, entrypoint, cmd, ...), kept from its import. */
  config?: ImageConfig | null;
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
  /** A local path (ext4, directory, tarball) or a transport REF (docker://, oci:, oci-archive:, docker-archive:). */
  path: string;
  size?: string | number;
  /** OS/ARCH[/VARIANT] picked from a multi-platform index (default linux/amd64). */
  platform?: string;
  /** false: plain HTTP or an unverified certificate for a docker:// registry. */
  tlsVerify?: boolean;
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
  /** Add a shared folder (HOSTDIR[:GUESTDIR][:ro]) to a stopped VM; it is mounted from its next boot. */
  addVmMount(name: string, spec: string): Promise<VmRecord>;
  /** Remove a stopped VM's shared folder at GUESTDIR. */
  removeVmMount(name: string, guestDir: string): Promise<VmRecord>;
  sshInfo(name: string): Promise<SshInfo>;
  /** Publish a port (`[ADDR:]HOSTPORT:GUESTPORT[/PROTO]`); on a running VM it listens at once. */
  addPort(name: string, spec: string): Promise<VmRecord>;
  /** Unpublish every port matching `[ADDR:]HOSTPORT[/PROTO]`; a running VM's listener closes at once. */
  removePort(name: string, key: string): Promise<VmRecord>;
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
  addVmMount: 'value',
  removeVmMount: 'value',
  addPort: 'value',
  removePort: 'value',
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
