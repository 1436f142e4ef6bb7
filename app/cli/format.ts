// Pure formatting for human output: tables and durations. --json output never goes here.
import type { VmRecord } from '../engine/api.js';
import { vmUptime } from '../format.js';
export { formatDuration } from '../format.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatBytesShort(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[i]}`;
}

export function vmRow(vm: VmRecord, zone: string): string[] {
  return [
    vm.name,
    vm.state,
    vm.ip ?? '-',
    `${vm.name}.${zone}`,
    vm.backend,
    String(vm.vcpus),
    `${vm.memoryMib}M`,
    formatBytesShort(vm.diskBytes),
    vm.image ?? '-',
    vmUptime(vm, Date.now()),
  ];
}

export const VM_HEADERS = ['NAME', 'STATE', 'IP', 'DNS', 'BACKEND', 'VCPU', 'MEM', 'DISK', 'IMAGE', 'UPTIME'];

export function vmDetail(vm: VmRecord, zone: string): string {
  const rows: [string, string][] = [
    ['name', vm.name],
    ['id', vm.id],
    ['state', vm.state],
    ['dns', `${vm.name}.${zone}`],
    ['ip', vm.ip ?? '-'],
    ['mac', vm.mac],
    ['backend', vm.backend],
    ['image', vm.image ?? '-'],
    ['kernel', vm.kernel ?? '-'],
    ['vcpus', String(vm.vcpus)],
    ['memory', `${vm.memoryMib} MiB`],
    ['disk', formatBytesShort(vm.diskBytes)],
    ['boot args', vm.bootArgs || '-'],
    ['pid', vm.pid === null ? '-' : String(vm.pid)],
    ['tap', vm.tap ?? '-'],
    ['socket', vm.socketPath ?? '-'],
    ['created', vm.createdAt],
    ['started', vm.startedAt ?? '-'],
    ['stopped', vm.stoppedAt ?? '-'],
    ['uptime', vmUptime(vm, Date.now())],
    ['last exit', vm.exitCode !== null ? `code ${vm.exitCode}` : vm.exitSignal ? `signal ${vm.exitSignal}` : '-'],
    ['last error', vm.lastError ?? '-'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
