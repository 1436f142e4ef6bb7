// How a VM record maps to its row: the columns, and the row back to a record (store.ts).
import type {
  Backend,
  ImageConfig,
  ImageRecord,
  MountSpec,
  PortSpec,
  SuspendInfo,
  VmRecord,
  VmState,
} from '../contract/api.js';

export interface VmRow {
  id: string;
  name: string;
  backend: string;
  image: string | null;
  kernel: string | null;
  vcpus: number;
  memory_mib: number;
  disk_bytes: number;
  boot_args: string;
  mac: string;
  state: string;
  pid: number | null;
  socket_path: string | null;
  tap: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  stopped_at: string | null;
  last_error: string | null;
  exit_code: number | null;
  exit_signal: string | null;
  pid_start_time: number | null;
  stop_timeout_ms: number | null;
  /** JSON of SuspendInfo while the VM is suspended. */
  suspended: string | null;
  /** JSON arrays (migration 6); null on older rows. */
  mounts: string | null;
  ports: string | null;
  user_data: string | null;
  ssh_keys: string | null;
  run: number;
}

export const VM_COLUMNS: Record<keyof VmRecord, keyof VmRow | null> = {
  id: 'id',
  name: 'name',
  backend: 'backend',
  image: 'image',
  kernel: 'kernel',
  vcpus: 'vcpus',
  memoryMib: 'memory_mib',
  diskBytes: 'disk_bytes',
  bootArgs: 'boot_args',
  mac: 'mac',
  ip: null,
  state: 'state',
  pid: 'pid',
  socketPath: 'socket_path',
  tap: 'tap',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  startedAt: 'started_at',
  stoppedAt: 'stopped_at',
  lastError: 'last_error',
  exitCode: 'exit_code',
  exitSignal: 'exit_signal',
  pidStartTime: 'pid_start_time',
  stopTimeoutMs: 'stop_timeout_ms',
  suspended: 'suspended',
  mounts: 'mounts',
  ports: 'ports',
  userData: 'user_data',
  sshKeys: 'ssh_keys',
  run: 'run',
};

/** Record fields kept as JSON text in their column. */
const JSON_FIELDS = new Set<keyof VmRecord>(['suspended', 'mounts', 'ports', 'sshKeys']);

/** A record field's value as its column stores it (JSON for the structured ones, 0/1 for run). */
export function vmColumnValue(k: keyof VmRecord, v: unknown): unknown {
  if (JSON_FIELDS.has(k)) return v === null || v === undefined ? null : JSON.stringify(v);
  if (k === 'run') return v ? 1 : 0;
  return v;
}

/** The extras' fields from their columns (absent columns or nulls: none). */
export function extrasFromRow(r: {
  mounts: string | null;
  ports: string | null;
  user_data: string | null;
  ssh_keys: string | null;
  run: number;
}): Pick<VmRecord, 'mounts' | 'ports' | 'userData' | 'sshKeys' | 'run'> {
  return {
    mounts: r.mounts ? (JSON.parse(r.mounts) as MountSpec[]) : [],
    ports: r.ports ? (JSON.parse(r.ports) as PortSpec[]) : [],
    userData: r.user_data ?? null,
    sshKeys: r.ssh_keys ? (JSON.parse(r.ssh_keys) as string[]) : [],
    run: !!r.run,
  };
}

export function rowToVm(r: VmRow & { ip: string | null }): VmRecord {
  return {
    id: r.id,
    name: r.name,
    backend: r.backend as Backend,
    image: r.image,
    kernel: r.kernel,
    vcpus: r.vcpus,
    memoryMib: r.memory_mib,
    diskBytes: r.disk_bytes,
    bootArgs: r.boot_args,
    mac: r.mac,
    ip: r.ip,
    state: r.state as VmState,
    pid: r.pid,
    socketPath: r.socket_path,
    tap: r.tap,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    lastError: r.last_error,
    exitCode: r.exit_code,
    exitSignal: r.exit_signal,
    pidStartTime: r.pid_start_time,
    stopTimeoutMs: r.stop_timeout_ms,
    suspended: parseSuspended(r.suspended),
    ...extrasFromRow(r),
  };
}

export function parseSuspended(text: string | null): SuspendInfo | null {
  return text ? (JSON.parse(text) as SuspendInfo) : null;
}

/** A new VM is never suspended; the insert names its columns and has none for it. */
export function withoutSuspended(vm: VmRecord): Omit<VmRecord, 'suspended'> {
  const { suspended: _s, ...rest } = vm;
  return rest;
}

export const VM_SELECT = `SELECT vms.*, leases.ip AS ip FROM vms LEFT JOIN leases ON leases.vm_id = vms.id`;

/** An image row as selected (config as JSON text). */
export type ImageRow = Omit<ImageRecord, 'config'> & { config: string | null };

export function imageFromRow(r: ImageRow): ImageRecord {
  return { ...r, config: r.config ? (JSON.parse(r.config) as ImageConfig) : null };
}
