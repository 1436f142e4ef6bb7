// Pure shaping of host samples into what the Metrics screen's charts take: line series (always at
// least two points, as blessed-contrib's line chart needs), gauge labels and percents, and the
// VMs-by-state lines. No blessed here, so it is unit-tested directly.
import { VM_STATES, type HostSample, type VmState } from '../../contract/api.js';
import { stateColor } from './colors.js';
import { escapeTags } from './rows.js';
import { formatBytes } from '../../base/human.js';
import { gaugePercent } from '../widgets/sparkline.js';

export interface Series {
  title: string;
  x: string[];
  y: number[];
  style: { line: string };
}

export const SERIES_COLORS = ['cyan', 'yellow', 'magenta', 'red', 'blue', 'white'];

/** Relative time labels ("-12s", "0s") against the newest sample; tenths when the window is short. */
export function xLabels(pts: readonly HostSample[]): string[] {
  const last = pts[pts.length - 1]?.at ?? 0;
  const short = last - (pts[0]?.at ?? 0) < 20_000;
  return pts.map((p) => {
    const sec = (p.at - last) / 1000;
    return sec === 0 ? '0s' : short ? `${sec.toFixed(1)}s` : `${Math.round(sec)}s`;
  });
}

/** A line chart needs two points: one sample is drawn flat, none as a flat zero. */
function atLeastTwo(x: string[], y: number[]): { x: string[]; y: number[] } {
  if (y.length >= 2) return { x, y };
  const v = y[0] ?? 0;
  return { x: [x[0] ?? '', ''], y: [v, v] };
}

/** Host CPU % (of all cores) over the last `points` samples. */
export function cpuSeries(host: readonly HostSample[], points: number): Series {
  const pts = host.slice(-Math.max(2, points));
  const { x, y } = atLeastTwo(
    xLabels(pts),
    pts.map((p) => clampPct(p.cpuPct)),
  );
  return { title: 'cpu', x, y, style: { line: 'green' } };
}

/**
 * DNS queries per second, one series per answer kind (sorted, and coloured by the kind's place
 * among all kinds, so colours stay put). The engine reports ten counters, mostly idle, and
 * 'queries' is their total: beyond DNS_MAX_KINDS only the busiest kinds with traffic are drawn,
 * else the chart drowns under its legend. Without any kind, one flat "none" series keeps the
 * axes drawn.
 */
export const DNS_MAX_KINDS = 4;

export function dnsSeries(host: readonly HostSample[], points: number): { series: Series[]; maxY: number } {
  const pts = host.slice(-Math.max(2, points));
  const all = [...new Set(pts.flatMap((p) => Object.keys(p.dnsQps)))].filter((k) => k !== 'queries').sort();
  const labels = xLabels(pts);
  const rate = (p: HostSample, kind: string) => {
    const v = p.dnsQps[kind];
    return Number.isFinite(v) && v! > 0 ? v! : 0;
  };
  const total = (k: string) => pts.reduce((a, p) => a + rate(p, k), 0);
  const kinds =
    all.length <= DNS_MAX_KINDS
      ? all
      : all
          .filter((k) => total(k) > 0)
          .sort((a, b) => total(b) - total(a))
          .slice(0, DNS_MAX_KINDS)
          .sort();
  let max = 0;
  const series = (kinds.length ? kinds : ['none']).map((kind) => {
    const y = pts.map((p) => rate(p, kind));
    for (const v of y) if (v > max) max = v;
    const i = Math.max(0, all.indexOf(kind));
    return { title: kind, ...atLeastTwo(labels, y), style: { line: SERIES_COLORS[i % SERIES_COLORS.length]! } };
  });
  // contrib divides by maxY: a flat zero series would have none.
  return { series, maxY: Math.max(1, Math.ceil(max * 1.2)) };
}

export interface MemGauges {
  used: { percent: number; label: string };
  committed: { percent: number; label: string };
}

/** Memory used vs total and committed to VMs vs total, as gauge percents and labels. */
export function memGauges(h: HostSample | undefined): MemGauges {
  if (!h || !(h.memTotalBytes > 0)) {
    return {
      used: { percent: 0, label: ' memory used: - ' },
      committed: { percent: 0, label: ' committed to VMs: - ' },
    };
  }
  const total = h.memTotalBytes;
  const usedPct = (h.memUsedBytes / total) * 100;
  const comPct = (h.memCommittedBytes / total) * 100;
  return {
    used: {
      percent: gaugePercent(usedPct),
      label: ` memory used ${formatBytes(h.memUsedBytes)} of ${formatBytes(total)} `,
    },
    // Overcommit is possible: the gauge stops at 100, the label tells the real figure.
    committed: {
      percent: gaugePercent(comPct),
      label: ` committed to VMs ${formatBytes(h.memCommittedBytes)} (${Math.round(comPct)}%) `,
    },
  };
}

/** One tagged line per VM state: name, count and a bar scaled to the largest count. */
export function stateLines(byState: Partial<Record<VmState, number>>, width: number): string[] {
  const counts = VM_STATES.map((s) => [s, Math.max(0, byState[s] ?? 0)] as const);
  const max = Math.max(1, ...counts.map(([, n]) => n));
  const numW = Math.max(1, ...counts.map(([, n]) => String(n).length));
  const barW = Math.max(0, width - 9 - numW - 2);
  return counts.map(([s, n]) => {
    const bar = '█'.repeat(Math.round((n / max) * barW));
    const c = stateColor(s);
    return `{${c}-fg}${escapeTags(s.padEnd(9))}{/${c}-fg}${String(n).padStart(numW)} {${c}-fg}${bar}{/${c}-fg}`;
  });
}

/** A short text summary of the newest sample (the header title, and the tiny-terminal view). */
export function hostSummary(h: HostSample | undefined): string {
  if (!h) return 'waiting for samples…';
  const dns = Object.values(h.dnsQps).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return (
    `cpu ${Math.round(clampPct(h.cpuPct))}%  mem ${formatBytes(h.memUsedBytes)}/${formatBytes(h.memTotalBytes)}  ` +
    `VMs ${formatBytes(h.memCommittedBytes)} committed  ${h.vmsByState.running ?? 0} running  dns ${dns.toFixed(1)} q/s`
  );
}

function clampPct(v: number): number {
  return Number.isFinite(v) ? Math.max(0, Math.min(100, v)) : 0;
}
