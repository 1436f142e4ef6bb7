import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { VmRecord } from '../../../app/contract/api.js';
import {
  detailLines,
  escapeTags,
  fit,
  formatBuildRow,
  formatCpuPct,
  formatVmRow,
  headerRow,
  humanTimes,
  layoutColumns,
  progressBar,
} from '../../../app/screens/present/rows.js';
import { agoChangesIn, formatAgo, formatBytes, formatDuration, formatLocalTime } from '../../../app/base/human.js';
import { vmDetails, vmUptime } from '../../../app/contract/vm-facts.js';
import { visibleLength } from '../../../app/screens/widgets/table.js';
import { columnize } from '../../../app/screens/widgets/dialogs.js';

const vm = (p: Partial<VmRecord> = {}): VmRecord => ({
  id: 'id1',
  name: 'dev',
  backend: 'firecracker',
  image: 'busybox',
  kernel: 'default',
  vcpus: 2,
  memoryMib: 512,
  diskBytes: 1 << 30,
  bootArgs: '',
  mac: '02:00:00:00:00:01',
  ip: '172.30.0.2',
  state: 'running',
  pid: 10,
  socketPath: '/run/fc.sock',
  tap: 'tap0',
  createdAt: '2024-01-01T00:00:00Z',
  updatedAt: '2024-01-01T00:00:00Z',
  startedAt: '2024-01-01T00:00:00Z',
  stoppedAt: null,
  lastError: null,
  exitCode: null,
  exitSignal: null,
  ...p,
});
const strip = (t: string) =>
  t
    .replace(/\{(open|close)\}/g, (m) => (m === '{open}' ? '\x01' : '\x02'))
    .replace(/\{\/?[\w\-,;!#]*\}/g, '')
    .replace(/\x01/g, '{')
    .replace(/\x02/g, '}');

test('durations, bytes, fit', () => {
  assert.is(formatDuration(5), '5s');
  assert.is(formatDuration(65), '1m05s');
  assert.is(formatDuration(3 * 3600 + 120), '3h02m');
  assert.is(formatDuration(2 * 86400 + 3600), '2d01h');
  assert.is(formatDuration(-1), '-');
  assert.is(formatBytes(512 * 1024 * 1024), '512M');
  assert.is(formatBytes(1536 * 1024 * 1024), '1.5G');
  assert.is(fit('abcdef', 4), 'abc…');
  assert.is(fit('ab', 4), 'ab  ');
});

test('uptime only for running VMs', () => {
  const now = Date.parse('2024-01-01T00:01:30Z');
  assert.is(vmUptime(vm(), now), '1m30s');
  assert.is(vmUptime(vm({ state: 'stopped' }), now), '-');
});

test('columns: all at 120, DNS and the widest dropped at 80, never wider than the screen', () => {
  const ids = (w: number) => layoutColumns(w).map((c) => c.id);
  assert.equal(ids(120), ['name', 'state', 'ip', 'dns', 'backend', 'vcpus', 'cpu', 'memory', 'image', 'uptime']);
  assert.not.ok(ids(80).includes('dns'));
  assert.ok(ids(80).includes('name') && ids(80).includes('state'));
  for (const w of [40, 80, 100, 120, 200]) {
    const cols = layoutColumns(w);
    assert.is(headerRow(cols).length, w, `width ${w}`);
    assert.is(visibleLength(formatVmRow(vm(), cols, Date.now())), w);
  }
});

test('rows colour the state and escape user text', () => {
  const cols = layoutColumns(120);
  const row = formatVmRow(vm({ name: 'a{b}', state: 'error' }), cols, Date.now());
  assert.ok(row.includes('{red-fg}error'));
  assert.ok(row.includes('a{open}b{close}'));
  assert.ok(strip(row).startsWith('a{b} '));
  assert.ok(strip(formatVmRow(vm(), cols, Date.now(), { pending: 'starting' })).includes('starting…'));
  assert.ok(strip(row).includes('a{b}.vm'));
});

test('CPU% column: the latest sample for running VMs, kept at 80 columns, "-" otherwise', () => {
  assert.is(formatCpuPct(0.04), '0.0%');
  assert.is(formatCpuPct(3.14159), '3.1%');
  assert.is(formatCpuPct(9.96), '10%');
  assert.is(formatCpuPct(187.4), '187%');
  assert.is(formatCpuPct(undefined), '-');
  assert.is(formatCpuPct(NaN), '-');
  for (const w of [80, 120]) {
    const cols = layoutColumns(w);
    const i = cols.findIndex((c) => c.id === 'cpu');
    assert.ok(i >= 0, `CPU% shown at ${w}`);
    assert.match(headerRow(cols), /CPU%/);
    const cellAt = (row: string) => strip(row).split(/\s+/)[i];
    assert.is(cellAt(formatVmRow(vm(), cols, Date.now(), { cpuPct: 42.4 })), '42%');
    assert.is(cellAt(formatVmRow(vm(), cols, Date.now(), {})), '-'); // no sample yet
    assert.is(cellAt(formatVmRow(vm({ state: 'stopped' }), cols, Date.now(), { cpuPct: 50 })), '-');
    assert.is(visibleLength(formatVmRow(vm(), cols, Date.now(), { cpuPct: 187 })), w);
  }
});

test('details include every field and highlight the last error', () => {
  const pairs = vmDetails(vm({ lastError: 'boot failed: no kernel' }), 'lab', Date.now());
  const keys = pairs.map((p) => p[0]);
  assert.ok(
    pairs.some(([k, v]) => k === 'dns' && v === 'dev.lab'),
    'the configured zone, not a hard-coded .vm',
  );
  for (const k of [
    'name',
    'state',
    'ip',
    'mac',
    'vcpus',
    'memory',
    'disk',
    'image',
    'kernel',
    'pid',
    'tap',
    'socket',
    'last error',
  ])
    assert.ok(keys.includes(k), k);
  const lines = detailLines(pairs, 100, 2);
  assert.ok(lines.join('\n').includes('{red-fg}boot failed: no kernel'));
  assert.is(lines.length, Math.ceil(pairs.length / 2));
});

test('progress bar and escaping', () => {
  assert.is(progressBar(50, 17), '[#####-----]  50%');
  assert.is(progressBar(150, 17), '[##########] 100%');
  assert.is(escapeTags('{x}'), '{open}x{close}');
});

test('columnize splits long overlays into two columns when wide enough', () => {
  const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`);
  assert.equal(columnize(lines, 20, 80), lines);
  const two = columnize(lines, 5, 80);
  assert.is(two.length, 5);
  assert.ok(two[0]!.startsWith('line 0') && two[0]!.includes('line 5'));
  assert.equal(columnize(lines, 5, 12), lines); // too narrow: unchanged, scrolls instead
});

test('times as people read them: "3 min ago", and the full local time on demand', () => {
  const now = Date.parse('2026-12-07T00:30:00.000Z');
  assert.is(formatAgo('2026-12-07T00:29:55.000Z', now), 'just now');
  assert.is(formatAgo('2026-12-07T00:29:18.000Z', now), '42 s ago');
  assert.is(formatAgo('2026-12-07T00:26:54.764Z', now), '3 min ago');
  assert.is(formatAgo('2026-12-06T22:00:00.000Z', now), '2 h ago');
  assert.is(formatAgo('2026-12-06T00:00:00.000Z', now), '1 day ago');
  assert.is(formatAgo('2026-12-01T00:00:00.000Z', now), '6 days ago');
  assert.is(formatAgo(null, now), '-');
  assert.is(formatAgo('not a time', now), '-');
  // Local time, whatever this host's zone: the fields of the same instant read locally.
  const d = new Date('2026-12-07T00:26:54.764Z');
  const local = formatLocalTime(d.toISOString());
  assert.match(local, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/);
  assert.ok(local.includes(`${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:54`));
  const pairs = vmDetails(vm({ createdAt: '2026-12-07T00:26:54.764Z', startedAt: null }), 'vm', now);
  const short = new Map(humanTimes(pairs, now));
  assert.is(short.get('created'), '3 min ago');
  assert.is(short.get('started'), '-');
  assert.is(new Map(humanTimes(pairs, now, true)).get('created'), `3 min ago (${local})`);
  assert.not.ok(
    [...short.values()].some((v) => /\d{4}-\d\d-\d\dT/.test(v)),
    'no raw ISO time left',
  );
});

test('agoChangesIn: the wait until the "ago" text reads differently', () => {
  const t = '2026-12-07T00:00:00.000Z';
  const at = (ms: number) => Date.parse(t) + ms;
  assert.is(agoChangesIn(t, at(3000)), 7000); // just now -> 10 s ago
  assert.is(agoChangesIn(t, at(12_300)), 700); // 12 s -> 13 s
  assert.is(agoChangesIn(t, at(185_000)), 55_000); // 3 min -> 4 min
  assert.is(agoChangesIn(t, at(2 * 3_600_000 + 60_000)), 3_540_000); // 2 h -> 3 h
  assert.is(agoChangesIn(null, at(0)), null);
  for (const ms of [3000, 12_300, 185_000, 7_260_000]) {
    const wait = agoChangesIn(t, at(ms))!;
    assert.is.not(formatAgo(t, at(ms + wait)), formatAgo(t, at(ms)), `changes after ${wait} ms`);
    assert.is(formatAgo(t, at(ms + wait - 1)), formatAgo(t, at(ms)), `not before (${ms})`);
  }
});

test('a build row says when it ended (or began, while running)', () => {
  const now = Date.parse('2026-12-07T00:30:00.000Z');
  const b = {
    id: 'b1',
    kind: 'image' as const,
    name: 'default',
    phase: 'register',
    percent: 100,
    state: 'done' as const,
    error: null,
    logPath: null,
    startedAt: '2026-12-07T00:20:00.000Z',
    endedAt: '2026-12-07T00:27:00.000Z',
  };
  assert.match(strip(formatBuildRow(b, 100, now)), /image\s+default\s+register\s+\[#+\] 100% done 3 min ago/);
  assert.match(
    strip(formatBuildRow({ ...b, state: 'running', endedAt: null, percent: 40 }, 100, now)),
    /\] {2}40% started 10 min ago/,
  );
});

test.run();
