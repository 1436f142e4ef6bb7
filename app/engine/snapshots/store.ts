// Snapshot records in the engine's SQLite file (tables from migration 2). Rows go with their
// VM (ON DELETE CASCADE); the files live under the VM's dir and go with it too.
import type { Backend, SnapshotRecord, VmmStamp } from '../../contract/api.js';
import type { Store } from '../store.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { isUniqueViolation } from '../store.js';

interface Row {
  vm: string;
  name: string;
  backend: string;
  parent: string | null;
  size_bytes: number;
  memory_mib: number;
  vcpus: number;
  created_at: string;
  stamp: string | null;
}

const SELECT = `SELECT vms.name AS vm, s.name, s.backend, s.parent, s.size_bytes, s.memory_mib, s.vcpus,
  s.created_at, s.stamp FROM snapshots s JOIN vms ON vms.id = s.vm_id`;

function toRecord(r: Row): SnapshotRecord {
  return {
    vm: r.vm,
    name: r.name,
    backend: r.backend as Backend,
    parent: r.parent,
    sizeBytes: r.size_bytes,
    memoryMib: r.memory_mib,
    vcpus: r.vcpus,
    createdAt: r.created_at,
    stamp: r.stamp ? (JSON.parse(r.stamp) as VmmStamp) : null,
  };
}

export class SnapshotStore {
  constructor(private readonly store: Store) {}

  list(vmId: string): SnapshotRecord[] {
    return (this.store.db.prepare(`${SELECT} WHERE s.vm_id = ? ORDER BY s.created_at, s.name`).all(vmId) as Row[]).map(
      toRecord,
    );
  }

  get(vmId: string, name: string): SnapshotRecord | null {
    const r = this.store.db.prepare(`${SELECT} WHERE s.vm_id = ? AND s.name = ?`).get(vmId, name) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  /** Insert and make it the VM's head; a taken name is E_NAME_TAKEN from the primary key. */
  insert(vmId: string, rec: SnapshotRecord): SnapshotRecord {
    try {
      this.store.tx(() => {
        this.store.db
          .prepare(
            `INSERT INTO snapshots (vm_id, name, backend, parent, size_bytes, memory_mib, vcpus, created_at, stamp)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            vmId,
            rec.name,
            rec.backend,
            rec.parent,
            rec.sizeBytes,
            rec.memoryMib,
            rec.vcpus,
            rec.createdAt,
            rec.stamp ? JSON.stringify(rec.stamp) : null,
          );
        this.setHead(vmId, rec.name);
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new BangerError(ErrorCodes.NAME_TAKEN, `VM "${rec.vm}" already has a snapshot named "${rec.name}"`, {
          cause: err,
        });
      throw err;
    }
    return this.get(vmId, rec.name)!;
  }

  remove(vmId: string, name: string): void {
    this.store.tx(() => {
      this.store.db.prepare('DELETE FROM snapshots WHERE vm_id = ? AND name = ?').run(vmId, name);
      // Children keep their record; their parent is simply gone.
      this.store.db.prepare('UPDATE snapshots SET parent = NULL WHERE vm_id = ? AND parent = ?').run(vmId, name);
      this.store.db.prepare('DELETE FROM snapshot_heads WHERE vm_id = ? AND name = ?').run(vmId, name);
    });
  }

  /** The snapshot the VM's current state descends from (last taken or restored). */
  head(vmId: string): string | null {
    const r = this.store.db.prepare('SELECT name FROM snapshot_heads WHERE vm_id = ?').get(vmId) as
      { name: string } | undefined;
    return r?.name ?? null;
  }

  setHead(vmId: string, name: string): void {
    this.store.db
      .prepare(
        'INSERT INTO snapshot_heads (vm_id, name) VALUES (?, ?) ON CONFLICT(vm_id) DO UPDATE SET name = excluded.name',
      )
      .run(vmId, name);
  }

  totalBytes(vmId: string): number {
    const r = this.store.db
      .prepare('SELECT COALESCE(SUM(size_bytes), 0) AS n FROM snapshots WHERE vm_id = ?')
      .get(vmId) as { n: number };
    return r.n;
  }
}
