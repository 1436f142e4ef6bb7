// bench/store.ts: 1,000 VM records in a real SQLite file, then time list() (target < 5 ms).
// Prints the median against a reference measured in the same run: a bare SELECT of the same
// rows through better-sqlite3, so the ratio shows what the store's mapping costs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../app/engine/store.js';
import { newVmId } from '../app/engine/vm/vm-id.js';

const dir = mkdtempSync(join(tmpdir(), 'banger-bench-store-'));
const store = new Store(join(dir, 'banger.db'));
const now = new Date().toISOString();
const t0 = performance.now();
store.tx(() => {
  for (let i = 0; i < 1000; i++) {
    const id = newVmId();
    store.insertVm({
      id,
      name: `vm-${i}`,
      backend: 'firecracker',
      image: 'default',
      kernel: 'default',
      vcpus: 1,
      memoryMib: 256,
      diskBytes: 1 << 30,
      bootArgs: '',
      mac: `06:${id.slice(0, 10).match(/../g)!.join(':')}`,
      ip: null,
      state: 'running',
      pid: null,
      socketPath: null,
      tap: null,
      createdAt: now,
      updatedAt: now,
      startedAt: now,
      stoppedAt: null,
      lastError: null,
      exitCode: null,
      exitSignal: null,
    });
    store.tryLease(`10.${(i >> 8) & 255}.${i & 255}.2`, id);
  }
});
const insertMs = performance.now() - t0;

function median(fn: () => unknown, runs = 200): number {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) fn();
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const bare = store.db.prepare(
  'SELECT vms.*, leases.ip AS ip FROM vms LEFT JOIN leases ON leases.vm_id = vms.id ORDER BY vms.name',
);
const refMs = median(() => bare.all());
const listMs = median(() => store.listVms());
console.log(`store: inserted 1000 VMs + leases in one transaction: ${insertMs.toFixed(1)} ms`);
console.log(
  `store: list() of 1000 VMs: median ${listMs.toFixed(2)} ms (target < 5 ms: ${listMs < 5 ? 'met' : 'MISSED'})`,
);
console.log(
  `store: bare SELECT of the same rows as objects (reference): median ${refMs.toFixed(2)} ms; ratio list/bare = ${(listMs / refMs).toFixed(2)}`,
);
store.close();
rmSync(dir, { recursive: true, force: true });
