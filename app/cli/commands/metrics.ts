// banger vm top / vm stats: live metrics from the engine's sampler (engine.metrics()).
// CPU % is of ONE core (a busy 2-vCPU VM can show 200%); rx/tx are from the guest's side.
import type { MetricsSnapshot, VmSample } from '../../contract/api.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { table } from '../table.js';
import { formatBytes } from '../../base/human.js';

export const DEFAULT_STATS_SAMPLES = 60;
const MAX_STATS_SAMPLES = 100_000;

/** The newest sample of every VM in the snapshot, busiest first (then by name). */
export function latestSamples(snap: MetricsSnapshot): VmSample[] {
  const out: VmSample[] = [];
  for (const h of Object.values(snap.vms)) if (h.length) out.push(h[h.length - 1]!);
  return out.sort((a, b) => b.cpuPct - a.cpuPct || a.name.localeCompare(b.name));
}

export function pct(v: number): string {
  if (!Number.isFinite(v) || v < 0) return '-';
  return v < 9.95 ? `${v.toFixed(1)}%` : `${Math.round(v)}%`;
}

export function rate(bps: number): string {
  return Number.isFinite(bps) && bps >= 0 ? `${formatBytes(Math.round(bps))}/s` : '-';
}

export const TOP_HEADERS = ['NAME', 'CPU%', 'RSS', 'RX/S', 'TX/S', 'DISK'];

export function topTable(samples: readonly VmSample[]): string {
  if (!samples.length) return 'no running VMs with samples (the engine samples running VMs once a second)';
  return table(
    TOP_HEADERS,
    samples.map((s) => [
      s.name,
      pct(s.cpuPct),
      formatBytes(s.rssBytes),
      rate(s.rxBps),
      rate(s.txBps),
      formatBytes(s.diskBytes),
    ]),
  );
}

interface Stat {
  current: number;
  avg: number;
  max: number;
}

function stat(values: number[]): Stat {
  const ok = values.filter((v) => Number.isFinite(v));
  if (!ok.length) return { current: NaN, avg: NaN, max: NaN };
  return { current: ok[ok.length - 1]!, avg: ok.reduce((a, b) => a + b, 0) / ok.length, max: Math.max(...ok) };
}

export interface StatsSummary {
  samples: number;
  spanSec: number;
  cpuPct: Stat;
  rssBytes: Stat;
  rxBps: Stat;
  txBps: Stat;
}

export function summarize(samples: readonly VmSample[]): StatsSummary {
  return {
    samples: samples.length,
    spanSec: samples.length > 1 ? (samples[samples.length - 1]!.at - samples[0]!.at) / 1000 : 0,
    cpuPct: stat(samples.map((s) => s.cpuPct)),
    rssBytes: stat(samples.map((s) => s.rssBytes)),
    rxBps: stat(samples.map((s) => s.rxBps)),
    txBps: stat(samples.map((s) => s.txBps)),
  };
}

/** The human view of `vm stats`: a current/avg/max summary, then the last few samples. */
export function statsText(name: string, samples: readonly VmSample[], now = Date.now(), rows = 10): string {
  if (!samples.length) return `${name}: no samples (only running VMs are sampled)`;
  const s = summarize(samples);
  const last = samples[samples.length - 1]!;
  const ago = Math.max(0, Math.round((now - last.at) / 1000));
  const bytes = (v: number) => (Number.isFinite(v) ? formatBytes(Math.round(v)) : '-');
  const line = (label: string, st: Stat, f: (v: number) => string) => [label, f(st.current), f(st.avg), f(st.max)];
  const head = `${name}: ${s.samples} sample${s.samples === 1 ? '' : 's'} over ${Math.round(s.spanSec)}s, latest ${ago}s ago, disk ${formatBytes(last.diskBytes)} allocated`;
  const summary = table(
    ['', 'CURRENT', 'AVG', 'MAX'],
    [line('cpu', s.cpuPct, pct), line('rss', s.rssBytes, bytes), line('rx', s.rxBps, rate), line('tx', s.txBps, rate)],
  );
  const recent = table(
    ['TIME', 'CPU%', 'RSS', 'RX/S', 'TX/S'],
    samples
      .slice(-rows)
      .map((x) => [
        new Date(x.at).toISOString().slice(11, 19),
        pct(x.cpuPct),
        formatBytes(x.rssBytes),
        rate(x.rxBps),
        rate(x.txBps),
      ]),
  );
  return `${head}\n\n${summary}\n\nrecent:\n${recent}`;
}

export async function top(ctx: CliContext, o: { json?: boolean }): Promise<void> {
  const latest = latestSamples(await (await ctx.engine()).metrics({ last: 1 }));
  if (o.json) return printJson(ctx, latest);
  ctx.out(topTable(latest));
}

export async function stats(ctx: CliContext, name: string, o: { json?: boolean; samples?: number }): Promise<void> {
  const n = o.samples ?? DEFAULT_STATS_SAMPLES;
  if (n < 1 || n > MAX_STATS_SAMPLES) {
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `--samples must be 1 to ${MAX_STATS_SAMPLES}, got ${n}`);
  }
  const e = await ctx.engine();
  const vm = await e.getVm(name); // E_NOT_FOUND for an unknown name
  const samples = ((await e.metrics({ last: n })).vms[vm.id] ?? []).slice(-n);
  if (o.json) return printJson(ctx, { vm: vm.name, samples });
  ctx.out(statsText(vm.name, samples));
}
