// The narrow shapes the engine needs from its parts. The parts (network/, images/, dns/,
// firecracker/, qemu/, metrics/) are adapted to these in wiring.ts, so tests can swap one
// part (e.g. a network runner confined to a namespace) without touching the lifecycle.
import type {
  BuildProgress,
  DnsStatus,
  GuestResolvers,
  ImageBuildInput,
  ImageImportInput,
  ImageRecord,
  KernelAddInput,
  KernelRecord,
  MetricsSnapshot,
} from '../contract/api.js';
import type { UndoStack } from './driver/undo.js';

export interface VmNetworkConfig {
  tap: string;
  ip: string;
  mac: string;
  gateway: string;
  /** The kernel ip= clause (without the "ip=" prefix is NOT assumed: it is the whole token). */
  ipArg: string;
}

export interface NetworkPort {
  /** Lease (sticky once a boot succeeds; a new lease is undone on failure) + bridge + NAT + TAP. */
  /** tapUid: who the TAP is made for (default: the engine's uid). */
  setupVm(vm: { id: string; name: string; tapUid?: number }, undo: UndoStack): Promise<VmNetworkConfig>;
  teardownVm(vmId: string, tap: string | null): Promise<void>;
  releaseLease(vmId: string): void;
  tapName(vmId: string): string;
  gatewayIp(): string;
  sweepOrphanTaps(keep: Set<string>): Promise<string[]>;
  down(): Promise<void>;
  /** Before a start changes anything: can this engine make its host changes? (not root: sudo rule) */
  preflight?(): Promise<void>;
  /**
   * Not root: point the gateway's port 53 at our listener (on), or at nothing (off: another
   * user holds our port there, and would answer our guests). Re-applies the NAT table.
   */
  setDnsRedirect?(on: boolean): Promise<void>;
}

export interface DnsPort {
  start(): Promise<void>;
  stop(): Promise<void>;
  setRecords(records: { name: string; ip: string }[]): void;
  upsert(name: string, ip: string): void;
  remove(name: string): void;
  status(): DnsStatus;
  counters(): Record<string, number>;
  /** Add the guest-facing listener on the bridge gateway (port 53, forwarding). */
  addGatewayListener?(host: string, allowFrom: string): Promise<void>;
  /** The resolvers a guest starting now gets (the gateway, or the host's while it is down). */
  guestResolvers?(gateway: string): GuestResolvers;
  /**
   * Throws E_DNS_PORT_TAKEN when the loopback listener is down while the host resolver sends
   * the zone's lookups to its address (banger dns setup --apply): serving then would be a lie.
   * Its listeners are stopped first.
   */
  assertWiredUp?(): Promise<void>;
  /** Is the guest-facing listener down because another user's process holds its port? */
  gatewayHeld?(): boolean;
}

export interface ConsolePort {
  /** Make the FIFO and log file for a boot (paths from vmPaths); returns them. */
  prepare(vmId: string, files: { log: string; fifo: string }): Promise<{ log: string; fifo: string }>;
  /** Start tailing the console log (after boot or adoption). */
  attach(vmId: string, log: string, fifo: string): void;
  detach(vmId: string): void;
  tail(vmId: string, log: string, maxBytes: number): Promise<Buffer>;
  subscribe(vmId: string, onData: (b: Buffer) => void): () => void;
  write(vmId: string, data: Buffer): Promise<void>;
  cleanup(fifo: string): Promise<void>;
}

export interface ImagesPort {
  build(input: ImageBuildInput): Promise<ImageRecord>;
  import(input: ImageImportInput): Promise<ImageRecord>;
  remove(name: string): Promise<void>;
  builds(): BuildProgress[];
  cancel(id: string): void;
  addKernel(input: KernelAddInput): Promise<KernelRecord>;
  fetchKernel(name: string): Promise<KernelRecord>;
  buildKernel(name: string): Promise<KernelRecord>;
  removeKernel(name: string): Promise<void>;
  /** Per-VM disk: copy of the image grown to size. */
  createVmDisk(imagePath: string, dest: string, sizeBytes: number): Promise<void>;
  sshKey(): Promise<{ privateKey: string; publicKey: string }>;
}

export interface MetricsPort {
  start(): void;
  stop(): void;
  snapshot(): MetricsSnapshot;
}
