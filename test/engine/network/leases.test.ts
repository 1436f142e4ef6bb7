import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../../app/engine/store.js';
import { createRunner } from '../../../app/base/process.js';
import { allocateLease, type LeaseStore } from '../../../app/engine/network/leases.js';
import { parseCidr } from '../../../app/engine/network/cidr.js';
import { BangerError } from '../../../app/base/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
function freshDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'banger-leases-'));
  dirs.push(d);
  return join(d, 'state.db');
}
const vmId = (i: number) => 'abc' + i.toString(16).padStart(9, '0');
const net24 = parseCidr('172.30.0.0/24');

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('first lease is .2, then in order; sticky for the same VM, also after reopening', () => {
  const file = freshDb();
  let store = new Store(file);
  assert.is(allocateLease(store, net24, vmId(1)).ip, '172.30.0.2');
  assert.is(allocateLease(store, net24, vmId(2)).ip, '172.30.0.3');
  assert.is(allocateLease(store, net24, vmId(1)).ip, '172.30.0.2');
  store.close();
  store = new Store(file);
  assert.is(allocateLease(store, net24, vmId(2)).ip, '172.30.0.3');
  assert.is(store.listLeases().length, 2);
  store.close();
});

test('a released address is reused', () => {
  const store = new Store(freshDb());
  for (let i = 0; i < 3; i++) allocateLease(store, net24, vmId(i));
  store.releaseLease(vmId(1));
  assert.is(store.getLease(vmId(1)), null);
  assert.is(allocateLease(store, net24, vmId(9)).ip, '172.30.0.3');
  store.close();
});

test('exhausted /29: E_SUBNET_EXHAUSTED, clear message, nothing leased', () => {
  const store = new Store(freshDb());
  const net = parseCidr('10.1.2.8/29');
  const ips = [0, 1, 2, 3, 4].map((i) => allocateLease(store, net, vmId(i)).ip);
  assert.equal(ips, ['10.1.2.10', '10.1.2.11', '10.1.2.12', '10.1.2.13', '10.1.2.14']);
  try {
    allocateLease(store, net, vmId(5));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, 'E_SUBNET_EXHAUSTED');
    assert.match((err as Error).message, '10.1.2.8/29');
    assert.match((err as Error).message, 'all 5');
  }
  assert.is(store.getLease(vmId(5)), null);
  assert.is(store.listLeases().length, 5);
  store.close();
});

test('a lease from an old subnet is replaced by one inside the current subnet', () => {
  const store = new Store(freshDb());
  assert.ok(store.tryLease('10.0.0.5', vmId(1)));
  assert.is(allocateLease(store, net24, vmId(1)).ip, '172.30.0.2');
  assert.equal(
    store.listLeases().map((l) => l.ip),
    ['172.30.0.2'],
  );
  store.close();
});

test('50 concurrent allocations (Promise.all) are all unique', async () => {
  const store = new Store(freshDb());
  const got = await Promise.all(
    Array.from({ length: 50 }, (_, i) => Promise.resolve().then(() => allocateLease(store, net24, vmId(i)).ip)),
  );
  assert.is(new Set(got).size, 50);
  assert.is(store.listLeases().length, 50);
  store.close();
});

test('two connections: a stale view loses at the PRIMARY KEY and moves on', () => {
  const file = freshDb();
  const a = new Store(file);
  const b = new Store(file);
  // b takes .2-.4; a allocates believing (stale) that nothing is leased.
  for (let i = 0; i < 3; i++) allocateLease(b, net24, vmId(100 + i));
  const refused: string[] = [];
  const stale: LeaseStore = {
    getLease: (id) => a.getLease(id),
    releaseLease: (id) => a.releaseLease(id),
    listLeases: () => [],
    tryLease: (ip, id) => {
      const ok = a.tryLease(ip, id);
      if (!ok) refused.push(ip);
      return ok;
    },
  };
  assert.is(allocateLease(stale, net24, vmId(1)).ip, '172.30.0.5');
  assert.equal(refused, ['172.30.0.2', '172.30.0.3', '172.30.0.4']);
  assert.is(b.getLease(vmId(1))?.ip, '172.30.0.5');
  a.close();
  b.close();
});

test("two connections racing for the same VM end with one lease, the winner's", () => {
  const file = freshDb();
  const a = new Store(file);
  const b = new Store(file);
  const won = allocateLease(b, net24, vmId(7)).ip;
  let first = true;
  // a's first look at the VM's lease predates b's insert.
  const stale: LeaseStore = {
    getLease: (id) => {
      if (first) {
        first = false;
        return null;
      }
      return a.getLease(id);
    },
    releaseLease: (id) => a.releaseLease(id),
    listLeases: () => a.listLeases(),
    tryLease: (ip, id) => a.tryLease(ip, id),
  };
  assert.is(allocateLease(stale, net24, vmId(7)).ip, won);
  assert.is(a.listLeases().length, 1);
  a.close();
  b.close();
});

test('4 processes, 40 leases each, on one SQLite file: all unique, none lost', async () => {
  const file = freshDb();
  new Store(file).close(); // migrate once, before the race
  const runner = createRunner();
  const startAt = Date.now() + 2500;
  const res = await Promise.all(
    [0, 1, 2, 3].map((w) =>
      runner.run(
        [
          process.execPath,
          '--import',
          'tsx',
          join(here, 'lease-worker.ts'),
          file,
          '172.30.0.0/24',
          `${w}ab${w}ab`,
          '40',
          String(startAt),
        ],
        { timeoutMs: 30_000 },
      ),
    ),
  );
  const outs = res.map((r) => JSON.parse(r.stdout) as { got: Record<string, string>; lost: number });
  const all = outs.flatMap((o) => Object.values(o.got));
  assert.is(all.length, 160);
  assert.is(new Set(all).size, 160, 'no address handed out twice');
  const store = new Store(file);
  const leases = store.listLeases();
  assert.is(leases.length, 160);
  for (const o of outs) for (const [id, ip] of Object.entries(o.got)) assert.is(store.getLease(id)?.ip, ip);
  store.close();
  console.log(
    `  (lease race: ${outs.map((o) => o.lost).reduce((x, y) => x + y, 0)} inserts refused by the PRIMARY KEY)`,
  );
});

test.run();
