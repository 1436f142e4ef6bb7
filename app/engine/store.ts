// One SQLite file (WAL) owned by the engine. Ordered migrations recorded in the DB, plain
// records out, every multi-row change in one transaction.
import Database from 'better-sqlite3';
import type {
  BuildProgress,
  EventRecord,
  ImageRecord,
  KernelRecord,
  LeaseRecord,
  VmRecord,
  VmState,
  Backend,
} from '../contract/api.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { MIGRATIONS } from './store-migrations.js';
import {
  extrasFromRow,
  imageFromRow,
  type ImageRow,
  parseSuspended,
  rowToVm,
  VM_COLUMNS,
  VM_SELECT,
  vmColumnValue,
  withoutSuspended,
  type VmRow,
} from './store-rows.js';
import { foldVmName } from '../contract/vm-spec.js';

type Db = Database.Database;

const EVENT_KEEP = 5000;
/** Ended builds kept in the history (running ones always are). */
const BUILD_KEEP = 50;

export function isUniqueViolation(err: unknown, column?: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') &&
    (!column || (e.message ?? '').includes(column))
  );
}

export class Store {
  readonly db: Db;
  private readonly listStmt: Database.Statement;
  private readonly listCols: Record<keyof VmRow | 'ip', number>;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.listStmt = this.db.prepare(`${VM_SELECT} ORDER BY vms.name`).raw(true);
    this.listCols = Object.fromEntries(this.listStmt.columns().map((col, i) => [col.name, i])) as Record<
      keyof VmRow | 'ip',
      number
    >;
  }

  close(): void {
    this.db.close();
  }

  /** Run fn in one IMMEDIATE transaction: writers never interleave. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.tx(() => {
        this.db.exec(m.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, new Date().toISOString());
      });
    }
  }

  migrations(): { version: number; name: string; appliedAt: string }[] {
    return this.db
      .prepare('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version')
      .all() as { version: number; name: string; appliedAt: string }[];
  }

  // ---- VMs
  /** All VMs by name (asked often: TUI refetches, status, the sampler each second). */
  listVms(): VmRecord[] {
    // Rows as arrays (no per-row key objects from SQLite), mapped by column position once.
    const c = this.listCols;
    return (this.listStmt.all() as unknown[][]).map((r): VmRecord => ({
      id: r[c.id] as string,
      name: r[c.name] as string,
      backend: r[c.backend] as Backend,
      image: r[c.image] as string | null,
      kernel: r[c.kernel] as string | null,
      vcpus: r[c.vcpus] as number,
      memoryMib: r[c.memory_mib] as number,
      diskBytes: r[c.disk_bytes] as number,
      bootArgs: r[c.boot_args] as string,
      mac: r[c.mac] as string,
      ip: r[c.ip] as string | null,
      state: r[c.state] as VmState,
      pid: r[c.pid] as number | null,
      socketPath: r[c.socket_path] as string | null,
      tap: r[c.tap] as string | null,
      createdAt: r[c.created_at] as string,
      updatedAt: r[c.updated_at] as string,
      startedAt: r[c.started_at] as string | null,
      stoppedAt: r[c.stopped_at] as string | null,
      lastError: r[c.last_error] as string | null,
      exitCode: r[c.exit_code] as number | null,
      exitSignal: r[c.exit_signal] as string | null,
      pidStartTime: r[c.pid_start_time] as number | null,
      stopTimeoutMs: r[c.stop_timeout_ms] as number | null,
      suspended: parseSuspended(r[c.suspended] as string | null),
      ...extrasFromRow({
        mounts: r[c.mounts] as string | null,
        ports: r[c.ports] as string | null,
        user_data: r[c.user_data] as string | null,
        ssh_keys: r[c.ssh_keys] as string | null,
        run: r[c.run] as number,
      }),
    }));
  }

  getVm(name: string): VmRecord | null {
    const r = this.db.prepare(`${VM_SELECT} WHERE vms.name = ?`).get(foldVmName(name)) as
      (VmRow & { ip: string | null }) | undefined;
    return r ? rowToVm(r) : null;
  }

  getVmById(id: string): VmRecord | null {
    const r = this.db.prepare(`${VM_SELECT} WHERE vms.id = ?`).get(id) as (VmRow & { ip: string | null }) | undefined;
    return r ? rowToVm(r) : null;
  }

  /** Insert a VM; a taken name surfaces as E_NAME_TAKEN from the UNIQUE constraint itself. */
  insertVm(vm: VmRecord): VmRecord {
    try {
      this.db
        .prepare(
          `INSERT INTO vms (id, name, backend, image, kernel, vcpus, memory_mib, disk_bytes, boot_args, mac,
        state, pid, socket_path, tap, created_at, updated_at, started_at, stopped_at, last_error, exit_code, exit_signal,
        pid_start_time, stop_timeout_ms, mounts, ports, user_data, ssh_keys, run)
        VALUES (@id, @name, @backend, @image, @kernel, @vcpus, @memoryMib, @diskBytes, @bootArgs, @mac, @state, @pid,
        @socketPath, @tap, @createdAt, @updatedAt, @startedAt, @stoppedAt, @lastError, @exitCode, @exitSignal,
        @pidStartTime, @stopTimeoutMs, @mounts, @ports, @userData, @sshKeys, @run)`,
        )
        .run({
          pidStartTime: null,
          stopTimeoutMs: null,
          ...withoutSuspended(vm),
          mounts: vmColumnValue('mounts', vm.mounts ?? []),
          ports: vmColumnValue('ports', vm.ports ?? []),
          userData: vm.userData ?? null,
          sshKeys: vmColumnValue('sshKeys', vm.sshKeys ?? []),
          run: vmColumnValue('run', vm.run),
        });
    } catch (err) {
      if (isUniqueViolation(err, 'vms.name')) {
        throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named "${vm.name}" already exists`, { cause: err });
      }
      throw err;
    }
    return this.getVmById(vm.id)!;
  }

  updateVm(id: string, patch: Partial<VmRecord>): VmRecord {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id };
    for (const [k, v] of Object.entries(patch)) {
      const col = VM_COLUMNS[k as keyof VmRecord];
      if (!col || col === 'id') continue;
      sets.push(`${col} = @${k}`);
      values[k] = vmColumnValue(k as keyof VmRecord, v);
    }
    values.updatedAt = new Date().toISOString();
    sets.push('updated_at = @updatedAt');
    const info = this.db.prepare(`UPDATE vms SET ${sets.join(', ')} WHERE id = @id`).run(values);
    if (info.changes === 0) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM with id ${id}`);
    return this.getVmById(id)!;
  }

  /** Delete a VM and release its lease in one transaction. */
  deleteVm(id: string): void {
    this.tx(() => {
      this.db.prepare('DELETE FROM leases WHERE vm_id = ?').run(id);
      this.db.prepare('DELETE FROM vms WHERE id = ?').run(id);
    });
  }

  vmsUsing(field: 'image' | 'kernel', name: string): string[] {
    return (
      this.db.prepare(`SELECT name FROM vms WHERE ${field} = ? ORDER BY name`).all(name) as { name: string }[]
    ).map((r) => r.name);
  }

  // ---- images
  listImages(): ImageRecord[] {
    return this.db
      .prepare(
        `SELECT name, source, path, size_bytes AS sizeBytes, sha256, build_log AS buildLog,
      init, config, created_at AS createdAt FROM images ORDER BY name`,
      )
      .all()
      .map((r) => imageFromRow(r as ImageRow));
  }

  getImage(name: string): ImageRecord | null {
    const r = this.db
      .prepare(
        `SELECT name, source, path, size_bytes AS sizeBytes, sha256, build_log AS buildLog,
      init, config, created_at AS createdAt FROM images WHERE name = ?`,
      )
      .get(name) as ImageRow | undefined;
    return r ? imageFromRow(r) : null;
  }

  insertImage(img: ImageRecord): ImageRecord {
    try {
      this.db
        .prepare(
          `INSERT INTO images (name, source, path, size_bytes, sha256, build_log, init, config, created_at)
        VALUES (@name, @source, @path, @sizeBytes, @sha256, @buildLog, @init, @config, @createdAt)`,
        )
        .run({ init: null, ...img, config: img.config ? JSON.stringify(img.config) : null });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new BangerError(ErrorCodes.NAME_TAKEN, `an image named "${img.name}" already exists`, { cause: err });
      throw err;
    }
    return img;
  }

  /** Delete unless a VM uses it; the check and the delete are one transaction. */
  deleteImage(name: string): void {
    this.tx(() => {
      const users = this.vmsUsing('image', name);
      if (users.length) throw new BangerError(ErrorCodes.IN_USE, `image "${name}" is used by VM ${users.join(', ')}`);
      this.db.prepare('DELETE FROM images WHERE name = ?').run(name);
    });
  }

  // ---- kernels
  listKernels(): KernelRecord[] {
    return this.db
      .prepare(
        `SELECT name, path, initrd_path AS initrdPath, source, version, created_at AS createdAt
      FROM kernels ORDER BY name`,
      )
      .all() as KernelRecord[];
  }

  getKernel(name: string): KernelRecord | null {
    return (
      (this.db
        .prepare(
          `SELECT name, path, initrd_path AS initrdPath, source, version, created_at AS createdAt
      FROM kernels WHERE name = ?`,
        )
        .get(name) as KernelRecord | undefined) ?? null
    );
  }

  insertKernel(k: KernelRecord): KernelRecord {
    try {
      this.db
        .prepare(
          `INSERT INTO kernels (name, path, initrd_path, source, version, created_at)
        VALUES (@name, @path, @initrdPath, @source, @version, @createdAt)`,
        )
        .run(k);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new BangerError(ErrorCodes.NAME_TAKEN, `a kernel named "${k.name}" already exists`, { cause: err });
      throw err;
    }
    return k;
  }

  deleteKernel(name: string): void {
    this.tx(() => {
      const users = this.vmsUsing('kernel', name);
      if (users.length) throw new BangerError(ErrorCodes.IN_USE, `kernel "${name}" is used by VM ${users.join(', ')}`);
      this.db.prepare('DELETE FROM kernels WHERE name = ?').run(name);
    });
  }

  // ---- leases
  getLease(vmId: string): LeaseRecord | null {
    return (
      (this.db.prepare('SELECT ip, vm_id AS vmId, created_at AS createdAt FROM leases WHERE vm_id = ?').get(vmId) as
        LeaseRecord | undefined) ?? null
    );
  }

  listLeases(): LeaseRecord[] {
    return this.db
      .prepare('SELECT ip, vm_id AS vmId, created_at AS createdAt FROM leases ORDER BY ip')
      .all() as LeaseRecord[];
  }

  /**
   * Try to take one address for vmId. The PRIMARY KEY on ip decides: a concurrent taker of
   * the same address loses here, not in a check-then-insert race. Returns false when taken.
   */
  tryLease(ip: string, vmId: string): boolean {
    try {
      this.db
        .prepare('INSERT INTO leases (ip, vm_id, created_at) VALUES (?, ?, ?)')
        .run(ip, vmId, new Date().toISOString());
      return true;
    } catch (err) {
      if (isUniqueViolation(err, 'leases.ip')) return false;
      throw err;
    }
  }

  releaseLease(vmId: string): void {
    this.db.prepare('DELETE FROM leases WHERE vm_id = ?').run(vmId);
  }

  // ---- events
  addEvent(kind: string, subject: string, message: string): EventRecord {
    const at = new Date().toISOString();
    const info = this.db
      .prepare('INSERT INTO events (at, kind, subject, message) VALUES (?, ?, ?, ?)')
      .run(at, kind, subject, message);
    const id = Number(info.lastInsertRowid);
    if (id % 500 === 0) this.db.prepare('DELETE FROM events WHERE id <= ?').run(id - EVENT_KEEP);
    return { id, at, kind, subject, message };
  }

  listEvents(limit = 100): EventRecord[] {
    return (
      this.db
        .prepare('SELECT id, at, kind, subject, message FROM events ORDER BY id DESC LIMIT ?')
        .all(limit) as EventRecord[]
    ).reverse();
  }

  // ---- build history (so builds made by another engine, or before a restart, are listed)
  putBuild(b: BuildProgress): void {
    this.db
      .prepare(
        `INSERT INTO builds (id, kind, name, phase, percent, state, error, log_path, started_at, ended_at)
         VALUES (@id, @kind, @name, @phase, @percent, @state, @error, @logPath, @startedAt, @endedAt)
         ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, percent = excluded.percent,
           state = excluded.state, error = excluded.error, ended_at = excluded.ended_at`,
      )
      .run(b);
    if (b.state !== 'running')
      this.db
        .prepare(
          `DELETE FROM builds WHERE state != 'running' AND id NOT IN
           (SELECT id FROM builds WHERE state != 'running' ORDER BY started_at DESC LIMIT ?)`,
        )
        .run(BUILD_KEEP);
  }

  /** Oldest first, as they happened. */
  listBuilds(): BuildProgress[] {
    return this.db
      .prepare(
        `SELECT id, kind, name, phase, percent, state, error, log_path AS logPath, started_at AS startedAt,
           ended_at AS endedAt FROM builds ORDER BY started_at, id`,
      )
      .all() as BuildProgress[];
  }

  /** At engine start: builds recorded as running died with the engine that ran them. */
  endInterruptedBuilds(): number {
    return this.db
      .prepare(
        `UPDATE builds SET state = 'failed', error = 'interrupted: the engine running it stopped', ended_at = ?
         WHERE state = 'running'`,
      )
      .run(new Date().toISOString()).changes;
  }

  // ---- settings
  getSetting(key: string): string | null {
    return (
      (this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value ??
      null
    );
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }
}
