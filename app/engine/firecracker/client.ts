// The Firecracker REST client on the API Unix socket. Firecracker serves one request at a time
// and reads bodies by Content-Length only (a chunked body is seen as empty), so every call is
// serialized and always carries Content-Length. Errors become E_VMM with the fault_message.
import http from 'node:http';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export const DEFAULT_TIMEOUT_MS = 500;

/** A call Firecracker refused (HTTP 4xx/5xx) or that never got an answer. */
export class FirecrackerApiError extends BangerError {
  readonly faultMessage: string | null;
  readonly status: number | null;

  constructor(
    message: string,
    opts: { faultMessage?: string | null; status?: number | null; method: string; path: string; cause?: unknown },
  ) {
    super(ErrorCodes.VMM, message, {
      cause: opts.cause,
      details: {
        faultMessage: opts.faultMessage ?? null,
        status: opts.status ?? null,
        method: opts.method,
        path: opts.path,
      },
    });
    this.name = 'FirecrackerApiError';
    this.faultMessage = opts.faultMessage ?? null;
    this.status = opts.status ?? null;
  }
}

export interface Logger {
  log_path?: string;
  level?: string;
  show_level?: boolean;
  show_log_origin?: boolean;
  module?: string;
}
export interface MachineConfig {
  vcpu_count: number;
  mem_size_mib: number;
  smt?: boolean;
  track_dirty_pages?: boolean;
  huge_pages?: 'None' | '2M';
  cpu_template?: string;
}
export interface BootSource {
  kernel_image_path: string;
  boot_args?: string;
  initrd_path?: string;
}
export interface Drive {
  drive_id: string;
  path_on_host: string;
  is_root_device: boolean;
  is_read_only?: boolean;
  cache_type?: 'Unsafe' | 'Writeback';
  io_engine?: 'Sync' | 'Async';
  partuuid?: string;
  rate_limiter?: unknown;
}
export interface NetworkInterface {
  iface_id: string;
  host_dev_name: string;
  guest_mac?: string;
}
export interface Vsock {
  guest_cid: number;
  uds_path: string;
  vsock_id?: string;
}
export interface InstanceInfo {
  id: string;
  state: 'Not started' | 'Running' | 'Paused';
  vmm_version: string;
  app_name: string;
}
export interface SnapshotCreate {
  snapshot_type?: 'Full' | 'Diff';
  snapshot_path: string;
  mem_file_path: string;
}
export interface SnapshotLoad {
  snapshot_path: string;
  mem_backend: { backend_type: 'File' | 'Uffd'; backend_path: string };
  resume_vm?: boolean;
  /** v1.12+: the TAP a restored NIC uses instead of the one the snapshot was taken with. */
  network_overrides?: { iface_id: string; host_dev_name: string }[];
}

export interface CallOptions {
  timeoutMs?: number;
}

export class FirecrackerClient {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly agent: http.Agent;

  constructor(
    readonly socketPath: string,
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    // One connection, kept alive: the API is serial anyway, and reuse saves a connect per call.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  putLogger(b: Logger, o?: CallOptions): Promise<void> {
    return this.put('/logger', b, o);
  }
  putMetrics(b: { metrics_path: string }, o?: CallOptions): Promise<void> {
    return this.put('/metrics', b, o);
  }
  putMachineConfig(b: MachineConfig, o?: CallOptions): Promise<void> {
    return this.put('/machine-config', b, o);
  }
  putBootSource(b: BootSource, o?: CallOptions): Promise<void> {
    return this.put('/boot-source', b, o);
  }
  putDrive(b: Drive, o?: CallOptions): Promise<void> {
    return this.put(`/drives/${encodeId(b.drive_id)}`, b, o);
  }
  putNetworkInterface(b: NetworkInterface, o?: CallOptions): Promise<void> {
    return this.put(`/network-interfaces/${encodeId(b.iface_id)}`, b, o);
  }
  putVsock(b: Vsock, o?: CallOptions): Promise<void> {
    return this.put('/vsock', b, o);
  }
  instanceStart(o?: CallOptions): Promise<void> {
    return this.put('/actions', { action_type: 'InstanceStart' }, o);
  }
  sendCtrlAltDel(o?: CallOptions): Promise<void> {
    return this.put('/actions', { action_type: 'SendCtrlAltDel' }, o);
  }
  flushMetrics(o?: CallOptions): Promise<void> {
    return this.put('/actions', { action_type: 'FlushMetrics' }, o);
  }
  patchVm(state: 'Paused' | 'Resumed', o?: CallOptions): Promise<void> {
    return this.send('PATCH', '/vm', { state }, o).then(() => undefined);
  }
  createSnapshot(b: SnapshotCreate, o?: CallOptions): Promise<void> {
    return this.put('/snapshot/create', b, o);
  }
  loadSnapshot(b: SnapshotLoad, o?: CallOptions): Promise<void> {
    return this.put('/snapshot/load', b, o);
  }
  getInstanceInfo(o?: CallOptions): Promise<InstanceInfo> {
    return this.send('GET', '/', undefined, o) as Promise<InstanceInfo>;
  }
  getMachineConfig(o?: CallOptions): Promise<MachineConfig> {
    return this.send('GET', '/machine-config', undefined, o) as Promise<MachineConfig>;
  }
  getVersion(o?: CallOptions): Promise<{ firecracker_version: string }> {
    return this.send('GET', '/version', undefined, o) as Promise<{ firecracker_version: string }>;
  }

  /** Drop the kept-alive connection. */
  close(): void {
    this.agent.destroy();
  }

  private put(path: string, body: unknown, o?: CallOptions): Promise<void> {
    return this.send('PUT', path, body, o).then(() => undefined);
  }

  /** Queue a request behind the previous one: Firecracker answers one at a time. */
  send(method: 'GET' | 'PUT' | 'PATCH', path: string, body?: unknown, o: CallOptions = {}): Promise<unknown> {
    const run = () => this.request(method, path, body, o.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private request(method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    } else if (method !== 'GET') headers['Content-Length'] = 0;
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, value?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value);
      };
      const req = http.request({ socketPath: this.socketPath, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => finish(this.transportError(method, path, e)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let json: unknown = null;
          if (text) {
            try {
              json = JSON.parse(text);
            } catch {
              /* kept as text below */
            }
          }
          if (status >= 200 && status < 300) return finish(null, json);
          const obj = (json ?? {}) as { fault_message?: string; error?: string };
          const fault = obj.fault_message ?? obj.error ?? (text.trim() || `HTTP ${status}`);
          finish(
            new FirecrackerApiError(`firecracker refused ${method} ${path}: ${fault}`, {
              faultMessage: fault,
              status,
              method,
              path,
            }),
          );
        });
      });
      const timer = setTimeout(() => {
        finish(
          new FirecrackerApiError(`firecracker did not answer ${method} ${path} within ${timeoutMs} ms`, {
            method,
            path,
          }),
        );
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => finish(this.transportError(method, path, e)));
      req.end(payload ?? undefined);
    });
  }

  private transportError(method: string, path: string, e: Error): FirecrackerApiError {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no API socket'
        : code === 'ECONNREFUSED'
          ? 'nothing listening on the API socket'
          : code === 'EACCES'
            ? 'permission denied on the API socket'
            : e.message;
    return new FirecrackerApiError(`firecracker API ${method} ${path} failed: ${why} (${this.socketPath})`, {
      method,
      path,
      cause: e,
    });
  }
}

/** Resource ids go into the path as-is when valid; anything else is escaped and Firecracker refuses it. */
function encodeId(id: string): string {
  return /^[A-Za-z0-9_]+$/.test(id) ? id : encodeURIComponent(id);
}
