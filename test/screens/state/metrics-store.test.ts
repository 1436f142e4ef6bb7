import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HostSample, VmSample } from '../../../app/contract/api.js';
import { MetricsStore } from '../../../app/screens/state/metrics-store.js';

const host = (at: number): HostSample => ({
  at,
  cpuPct: 10,
  memTotalBytes: 100,
  memUsedBytes: 50,
  memCommittedBytes: 10,
  vmsByState: { created: 0, starting: 0, running: 1, paused: 0, stopping: 0, stopped: 0, error: 0 },
  dnsQps: {},
});
const vm = (id: string, at: number, cpuPct = 1): VmSample => ({
  vmId: id,
  name: id,
  at,
  cpuPct,
  rssBytes: 1,
  rxBytes: 0,
  txBytes: 0,
  rxBps: 0,
  txBps: 0,
  diskBytes: 0,
});

test('keeps a bounded history per VM and for the host', () => {
  const m = new MetricsStore(3, 4);
  for (let i = 1; i <= 10; i++) m.add(host(i), [vm('a', i, i), vm('b', i)]);
  assert.is(m.history('a').length, 3);
  assert.equal(
    m.history('a').map((s) => s.cpuPct),
    [8, 9, 10],
  );
  assert.is(m.latest('a')?.cpuPct, 10);
  assert.equal(
    m.host.map((h) => h.at),
    [7, 8, 9, 10],
  );
  assert.equal(
    m.hostSince(8).map((h) => h.at),
    [9, 10],
  );
  assert.equal(m.hostSince(10), []);
});

test('a VM missing from a sample has stopped: its history goes', () => {
  const m = new MetricsStore();
  m.add(host(1), [vm('a', 1), vm('b', 1)]);
  m.add(host(2), [vm('b', 2)]);
  assert.is(m.latest('a'), undefined);
  assert.equal(m.history('a'), []);
  assert.is(m.history('b').length, 2);
});

test('seed replaces everything from a snapshot, trimmed to capacity', () => {
  const m = new MetricsStore(2, 2);
  m.add(host(1), [vm('x', 1)]);
  m.seed({ host: [host(5), host(6), host(7)], vms: { a: [vm('a', 5), vm('a', 6), vm('a', 7, 42)], empty: [] } });
  assert.is(m.latest('x'), undefined);
  assert.is(m.latest('a')?.cpuPct, 42);
  assert.is(m.history('a').length, 2);
  assert.equal(
    m.host.map((h) => h.at),
    [6, 7],
  );
});

test.run();
