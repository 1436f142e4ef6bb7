// Plain-text tables and the VM rows and detail list for human output. --json never comes here.
import type { VmRecord } from '../contract/api.js';
import { formatBytes } from '../base/human.js';
import { formatPort } from '../contract/port-spec.js';
import { formatMount } from '../contract/mounts.js';
import { stateLabel, vmDetails, vmDnsName, vmUptime } from '../contract/vm-facts.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function vmRow(vm: VmRecord, zone: string): string[] {
  return [
    vm.name,
    stateLabel(vm),
    vm.ip ?? '-',
    vmDnsName(vm, zone),
    vm.backend,
    String(vm.vcpus),
    `${vm.memoryMib}M`,
    formatBytes(vm.diskBytes),
    vm.image ?? '-',
    vmUptime(vm, Date.now()),
  ];
}

export const VM_HEADERS = ['NAME', 'STATE', 'IP', 'DNS', 'BACKEND', 'VCPU', 'MEM', 'DISK', 'IMAGE', 'UPTIME'];

/** First-boot config, as `vm show` prints it (the record's userData/sshKeys hold the content). */
export function firstBootRows(vm: Pick<VmRecord, 'userData' | 'sshKeys'>): [string, string][] {
  const u = vm.userData;
  const kind = !u ? 'none' : u.startsWith('#!') ? 'script' : 'cloud-config';
  const keys = vm.sshKeys?.length ?? 0;
  return [
    ['user-data', u ? `${kind}, ${formatBytes(Buffer.byteLength(u))}` : 'none'],
    ['ssh keys', String(keys)],
  ];
}

export function vmDetail(vm: VmRecord, zone: string): string {
  const rows = vmDetails(vm, zone, Date.now());
  // After "boot args": what the VM's first boot is given.
  const at = rows.findIndex(([k]) => k === 'boot args') + 1;
  rows.splice(at, 0, ...firstBootRows(vm));
  if (vm.run) rows.push(['run', "the image's Entrypoint/Cmd, supervised"]);
  if (vm.mounts?.length) rows.push(['mounts', vm.mounts.map(formatMount).join(', ')]);
  if (vm.ports?.length) rows.push(['ports', vm.ports.map(formatPort).join(', ')]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
