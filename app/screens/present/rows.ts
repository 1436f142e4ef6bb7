// Pure formatting for the tables and detail panes: no blessed here, so it is unit-tested
// directly. Output strings carry blessed tags; user text is escaped with escapeTags.
import type { BuildProgress, DnsRecord, ImageRecord, KernelRecord, VmRecord } from '../../contract/api.js';
import { stateColor } from './colors.js';
import { formatAgo, formatBytes, formatLocalTime } from '../../base/human.js';
import { isLive, stateLabel, vmDnsName, vmUptime } from '../../contract/vm-facts.js';

/** blessed.escape without blessed: `{` and `}` would otherwise be read as tags. */
export function escapeTags(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Cut or pad to exactly `w` columns (ellipsis when cut). */
export function fit(s: string, w: number): string {
  if (w <= 0) return '';
  if (s.length > w) return w === 1 ? '…' : s.slice(0, w - 1) + '…';
  return s.padEnd(w);
}

export interface Column {
  id: 'name' | 'state' | 'ip' | 'dns' | 'backend' | 'vcpus' | 'cpu' | 'memory' | 'image' | 'uptime';
  title: string;
  width: number;
  /** Lower is kept first when the terminal is narrow. */
  priority: number;
  /** Takes a share of spare width. */
  flex?: boolean;
}

export const VM_COLUMNS: readonly Column[] = [
  { id: 'name', title: 'NAME', width: 12, priority: 0, flex: true },
  { id: 'state', title: 'STATE', width: 9, priority: 1 },
  { id: 'ip', title: 'IP', width: 15, priority: 2 },
  { id: 'dns', title: 'DNS', width: 14, priority: 7, flex: true },
  { id: 'backend', title: 'BACKEND', width: 11, priority: 6 },
  { id: 'vcpus', title: 'VCPU', width: 4, priority: 4 },
  { id: 'cpu', title: 'CPU%', width: 5, priority: 2 },
  { id: 'memory', title: 'MEM', width: 5, priority: 3 },
  { id: 'image', title: 'IMAGE', width: 10, priority: 5, flex: true },
  { id: 'uptime', title: 'UPTIME', width: 7, priority: 3 },
];

/** Pick the columns that fit `width` (one space between columns) and spread spare width. */
export function layoutColumns(width: number, columns: readonly Column[] = VM_COLUMNS): Column[] {
  const byPriority = [...columns].sort((a, b) => a.priority - b.priority);
  const chosen = new Set<Column>();
  let used = 0;
  for (const c of byPriority) {
    const need = c.width + (chosen.size ? 1 : 0);
    if (used + need > width) continue;
    chosen.add(c);
    used += need;
  }
  const out = columns.filter((c) => chosen.has(c)).map((c) => ({ ...c }));
  const flex = out.filter((c) => c.flex);
  let spare = width - used;
  for (let i = 0; spare > 0 && flex.length; i = (i + 1) % flex.length, spare--) flex[i]!.width++;
  return out;
}

export function headerRow(cols: readonly Column[]): string {
  return cols.map((c) => fit(c.title, c.width)).join(' ');
}

function cell(vm: VmRecord, id: Column['id'], now: number, zone: string, cpuPct: number | null | undefined): string {
  switch (id) {
    case 'name':
      return vm.name;
    case 'state':
      return stateLabel(vm);
    case 'ip':
      return vm.ip ?? '-';
    case 'dns':
      return vmDnsName(vm, zone);
    case 'backend':
      return vm.backend;
    case 'vcpus':
      return String(vm.vcpus);
    // The latest sample's CPU (percent of one core); a VMM runs when running or paused (~0%).
    case 'cpu':
      return isLive(vm.state) ? formatCpuPct(cpuPct) : '-';
    case 'memory':
      return formatBytes(vm.memoryMib * 1024 * 1024);
    case 'image':
      return vm.image ?? '-';
    case 'uptime':
      return vmUptime(vm, now);
  }
}

/** CPU percent for a narrow column: one decimal under 10 (`0.4%`), whole numbers above (`187%`). */
export function formatCpuPct(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct) || pct < 0) return '-';
  return pct < 9.95 ? `${pct.toFixed(1)}%` : `${Math.round(pct)}%`;
}

/** One table row (blessed tags). `pending` marks an action in flight ("starting…"); `cpuPct` is the latest sample. */
export function formatVmRow(
  vm: VmRecord,
  cols: readonly Column[],
  now: number,
  opts: { zone?: string; pending?: string; colors?: number; cpuPct?: number | null } = {},
): string {
  const zone = opts.zone ?? 'vm';
  return cols
    .map((c) => {
      if (c.id === 'state') {
        const label = opts.pending ? `${opts.pending}…` : stateLabel(vm);
        const color = stateColor(opts.pending ? 'starting' : vm.state);
        return `{${color}-fg}${escapeTags(fit(label, c.width))}{/${color}-fg}`;
      }
      return escapeTags(fit(cell(vm, c.id, now, zone, opts.cpuPct), c.width));
    })
    .join(' ');
}

/** Detail pairs laid out as tagged lines in `ncols` columns of `width` total. */
export function detailLines(pairs: [string, string][], width: number, ncols: number): string[] {
  const labelW = Math.max(...pairs.map(([k]) => k.length)) + 1;
  const colW = Math.floor(width / Math.max(1, ncols));
  const perCol = Math.ceil(pairs.length / ncols);
  const lines: string[] = [];
  for (let r = 0; r < perCol; r++) {
    const parts: string[] = [];
    for (let c = 0; c < ncols; c++) {
      const p = pairs[c * perCol + r];
      if (!p) continue;
      const isErr = p[0] === 'last error' && p[1] !== '-';
      const value = fit(p[1], Math.max(1, colW - labelW - 1));
      const v = isErr ? `{red-fg}${escapeTags(value)}{/red-fg}` : escapeTags(value);
      parts.push(`{bold}${escapeTags(p[0].padEnd(labelW))}{/bold}${v}`);
    }
    lines.push(parts.join(' '));
  }
  return lines;
}

const TIME_FIELDS = new Set(['created', 'started', 'stopped']);

/**
 * Detail pairs with their times as people read them: "3 min ago" in the pane, and with the full
 * local time beside it where there is room for it (the Enter overlay).
 */
export function humanTimes(pairs: [string, string][], now: number, full = false): [string, string][] {
  return pairs.map(([k, v]) => {
    if (!TIME_FIELDS.has(k) || v === '-') return [k, v];
    return [k, full ? `${formatAgo(v, now)} (${formatLocalTime(v)})` : formatAgo(v, now)];
  });
}

/** `[#####-----]  40%` */
export function progressBar(percent: number, width: number): string {
  const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  const inner = Math.max(1, width - 7);
  const full = Math.round((p / 100) * inner);
  return `[${'#'.repeat(full)}${'-'.repeat(inner - full)}] ${String(Math.round(p)).padStart(3)}%`;
}

export function formatImageRow(img: ImageRecord, width: number): string {
  const w = Math.max(10, width - 10 - 8 - 3);
  return escapeTags(
    `${fit(img.name, 18)} ${fit(formatBytes(img.sizeBytes), 7)} ${fit(img.source, Math.max(4, w - 18))}`,
  );
}

export const KERNEL_HEADER = `${fit('KERNEL', 18)} ${fit('VERSION', 16)} ${fit('INITRD', 6)} SOURCE`;

export function formatKernelRow(k: KernelRecord, width: number): string {
  const w = Math.max(4, width - 18 - 16 - 6 - 3);
  return escapeTags(
    `${fit(k.name, 18)} ${fit(k.version ?? '-', 16)} ${fit(k.initrdPath ? 'yes' : 'no', 6)} ${fit(k.source, w)}`,
  );
}

/** One build: what it makes (image or kernel), its name, phase, progress and outcome. */
export function formatBuildRow(b: BuildProgress, width: number, now = Date.now()): string {
  const color =
    b.state === 'failed' ? 'red' : b.state === 'done' ? 'green' : b.state === 'cancelled' ? 'yellow' : 'cyan';
  const head = `${fit(b.kind, 6)} ${fit(b.name, 14)} ${fit(b.phase, 12)} `;
  // Room after the bar for the outcome and its time ("done 3 min ago").
  const bar = progressBar(b.percent, Math.max(12, Math.min(40, width - head.length - 24)));
  const when =
    b.state === 'running' ? `started ${formatAgo(b.startedAt, now)}` : `${b.state} ${formatAgo(b.endedAt, now)}`;
  const tail = ` ${when}${b.error ? `: ${b.error}` : ''}`;
  return `${escapeTags(head)}{${color}-fg}${bar}{/${color}-fg}${escapeTags(fit(tail, Math.max(0, width - head.length - bar.length)))}`;
}

export function formatDnsRow(r: DnsRecord): string {
  return escapeTags(`${fit(r.name, 28)} ${fit(r.type, 4)} ${fit(r.value, 16)} ${fit(String(r.ttl), 6)} ${r.vm}`);
}
