// The store's schema: ordered migrations, recorded in the DB as they are applied (store.ts).
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// Append only: a shipped migration is never edited, a new one gets the next number.
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE vms (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        backend TEXT NOT NULL,
        image TEXT,
        kernel TEXT,
        vcpus INTEGER NOT NULL,
        memory_mib INTEGER NOT NULL,
        disk_bytes INTEGER NOT NULL,
        boot_args TEXT NOT NULL DEFAULT '',
        mac TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        pid INTEGER,
        socket_path TEXT,
        tap TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        started_at TEXT,
        stopped_at TEXT,
        last_error TEXT,
        exit_code INTEGER,
        exit_signal TEXT
      );
      CREATE TABLE images (
        name TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        path TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        build_log TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE kernels (
        name TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        initrd_path TEXT,
        source TEXT NOT NULL,
        version TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE leases (
        ip TEXT PRIMARY KEY,
        vm_id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'vmm identity, per-VM stop timeout, image init',
    sql: `
      ALTER TABLE vms ADD COLUMN pid_start_time INTEGER;
      ALTER TABLE vms ADD COLUMN stop_timeout_ms INTEGER;
      ALTER TABLE images ADD COLUMN init TEXT;
      `,
  },
  {
    version: 3,
    name: 'snapshots',
    sql: `
      CREATE TABLE snapshots (
        vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        backend TEXT NOT NULL,
        parent TEXT,
        size_bytes INTEGER NOT NULL,
        memory_mib INTEGER NOT NULL,
        vcpus INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (vm_id, name)
      );
      CREATE TABLE snapshot_heads (
        vm_id TEXT PRIMARY KEY REFERENCES vms(id) ON DELETE CASCADE,
        name TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'build history',
    sql: `
      CREATE TABLE builds (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        phase TEXT NOT NULL,
        percent INTEGER NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        log_path TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT
      );
      CREATE INDEX builds_started ON builds (started_at);
    `,
  },
  {
    version: 5,
    name: 'snapshot vmm stamp, suspended state',
    sql: `
      ALTER TABLE snapshots ADD COLUMN stamp TEXT;
      ALTER TABLE vms ADD COLUMN suspended TEXT;
    `,
  },
  {
    version: 6,
    name: 'mounts, published ports, first-boot config, image config',
    sql: `
      ALTER TABLE vms ADD COLUMN mounts TEXT;
      ALTER TABLE vms ADD COLUMN ports TEXT;
      ALTER TABLE vms ADD COLUMN user_data TEXT;
      ALTER TABLE vms ADD COLUMN ssh_keys TEXT;
      ALTER TABLE vms ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE images ADD COLUMN config TEXT;
    `,
  },
];
