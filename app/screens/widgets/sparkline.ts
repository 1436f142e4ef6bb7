// Pure metric formatting for the screens: unicode block sparklines, rates and percents, and the
// VM detail pane's metric lines. No blessed here, so all of it is unit-tested directly.
import type { VmSample } from '../../contract/api.js';
import { escapeTags, formatCpuPct } from '../present/rows.js';
import { formatBytes } from '../../base/human.js';

export const SPARK_BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * The last `width` values as block characters scaled to `max` (default: the largest value shown),
 * right-aligned and padded with spaces on the left, so the string is always exactly `width`
 * columns. Negative, NaN and infinite values count as 0; a zero scale draws the lowest block.
 */
export function sparkline(values: readonly number[], width: number, max?: number): string {
  const w = Math.max(0, Math.floor(width));
  if (w === 0) return '';
  const shown = values.slice(Math.max(0, values.length - w)).map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const top = max !== undefined && Number.isFinite(max) && max > 0 ? max : Math.max(0, ...shown);
  const last = SPARK_BLOCKS.length - 1;
  let out = '';
  for (const v of shown) {
    const level = top > 0 ? Math.round((Math.min(v, top) / top) * last) : 0;
    out += SPARK_BLOCKS[level];
  }
  return ' '.repeat(w - shown.length) + out;
}

/** Bytes per second, short (`1.5K/s`). */
export function formatRate(bps: number): string {
  const b = formatBytes(bps);
  return b === '-' ? '-' : `${b}/s`;
}

/**
 * What the blessed-contrib gauge should be given for a percent. The gauge reads any value
 * below 1.001 as a fraction (0.5 -> 50%), so a real 0.5..1.5% is passed as 1.002 (shown "1%"),
 * smaller ones as 0; everything is clamped to 0..100 and rounded.
 */
export function gaugePercent(pct: number): number {
  if (!Number.isFinite(pct) || pct < 0.5) return 0;
  const p = Math.min(100, Math.round(pct));
  return p <= 1 ? 1.002 : p;
}

/**
 * The VM detail pane's metric lines: CPU and RSS on one line, net rx/tx on the next, each a
 * label, a sparkline over the recent history and the current value. `width` is the pane's
 * inner width; the sparklines take what the labels and values leave.
 */
export function vmMetricLines(history: readonly VmSample[], width: number): string[] {
  if (!history.length) return [];
  const cur = history[history.length - 1]!;
  const half = Math.floor((Math.max(30, width) - 2) / 2);
  // label (4) + space + sparkline + space + value (7)
  const sw = Math.max(4, half - 13);
  const cell = (label: string, values: number[], value: string, color: string, max?: number) =>
    `{bold}${label.padEnd(4)}{/bold} {${color}-fg}${sparkline(values, sw, max)}{/${color}-fg} ${escapeTags(value.padEnd(7))}`;
  // CPU is scaled to at least one core, so an idle VM reads as flat low blocks, not noise.
  const cpuMax = Math.max(100, ...history.map((s) => s.cpuPct));
  return [
    `${cell(
      'cpu',
      history.map((s) => s.cpuPct),
      formatCpuPct(cur.cpuPct),
      'green',
      cpuMax,
    )}  ${cell(
      'rss',
      history.map((s) => s.rssBytes),
      formatBytes(cur.rssBytes),
      'magenta',
    )}`,
    `${cell(
      'rx',
      history.map((s) => s.rxBps),
      formatRate(cur.rxBps),
      'cyan',
    )}  ${cell(
      'tx',
      history.map((s) => s.txBps),
      formatRate(cur.txBps),
      'yellow',
    )}`,
  ];
}
