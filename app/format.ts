// Human durations shared by every front end (CLI tables, TUI columns): one spelling of uptime.
import type { VmRecord } from './engine/api.js';

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '-';
  const s = Math.floor(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

/** Uptime of a running VM at `now` (ms epoch); '-' when not running. */
export function vmUptime(vm: Pick<VmRecord, 'state' | 'startedAt'>, now: number): string {
  if (vm.state !== 'running' || !vm.startedAt) return '-';
  const t = Date.parse(vm.startedAt);
  if (Number.isNaN(t)) return '-';
  return formatDuration(Math.max(0, (now - t) / 1000));
}
