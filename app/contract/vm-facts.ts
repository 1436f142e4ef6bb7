// Facts about a VM record that several parts need (engine, CLI, TUI): which states hold host
// resources, counts by state, its DNS name, uptime, and the one list of its details.
import { LIVE_STATES, VM_STATES, type DnsRecord, type VmRecord, type VmState } from './api.js';
import { formatAgo, formatBytes, formatDuration } from '../base/human.js';

/** States in which a VMM may exist and the VM holds a TAP, a lease in use and files. */
export const ACTIVE_VM_STATES: readonly VmState[] = ['running', 'paused', 'starting', 'stopping'];

export function isActive(state: VmState): boolean {
  return ACTIVE_VM_STATES.includes(state);
}

/** A VMM runs: running or paused (a paused VM keeps its process, DNS record and TAP). */
export function isLive(state: VmState): boolean {
  return LIVE_STATES.includes(state);
}

export function countByState(vms: readonly { state: VmState }[]): Record<VmState, number> {
  const out = Object.fromEntries(VM_STATES.map((s) => [s, 0])) as Record<VmState, number>;
  for (const v of vms) if (out[v.state] !== undefined) out[v.state]++;
  return out;
}

/** The A records the engine's DNS serves: one per live VM with an address. */
export function dnsRecordsOf(vms: readonly VmRecord[], zone: string): DnsRecord[] {
  return vms
    .filter((vm) => isLive(vm.state) && vm.ip)
    .map((vm) => ({ name: `${vm.name}.${zone}.`, type: 'A' as const, value: vm.ip!, ttl: 5, vm: vm.name }));
}

/** NAME.zone, the name the engine's DNS answers for (zone as configured, without the dot). */
export function vmDnsName(vm: Pick<VmRecord, 'name'>, zone: string): string {
  return `${vm.name}.${zone.replace(/\.$/, '')}`;
}

/** Uptime of a running VM at `now` (ms epoch); '-' when not running. */
/** The state as people read it: a stopped VM with saved state is "suspended". */
export function stateLabel(vm: Pick<VmRecord, 'state' | 'suspended'>): string {
  return vm.state === 'stopped' && vm.suspended ? 'suspended' : vm.state;
}

export function vmUptime(vm: Pick<VmRecord, 'state' | 'startedAt'>, now: number): string {
  if (vm.state !== 'running' || !vm.startedAt) return '-';
  const t = Date.parse(vm.startedAt);
  if (Number.isNaN(t)) return '-';
  return formatDuration(Math.max(0, (now - t) / 1000));
}

function lastExit(vm: VmRecord): string {
  if (vm.exitCode === null && vm.exitSignal === null) return '-';
  return vm.exitCode !== null ? `code ${vm.exitCode}` : `signal ${vm.exitSignal}`;
}

/** Every field of a VM as [label, value] pairs, for `vm show` and the TUI's detail pane. */
export function vmDetails(vm: VmRecord, zone: string, now: number, consoleLog?: string | null): [string, string][] {
  const rows: [string, string][] = [
    ['name', vm.name],
    ['id', vm.id],
    ['state', stateLabel(vm)],
    ['backend', vm.backend],
    ['ip', vm.ip ?? '-'],
    ['dns', vmDnsName(vm, zone)],
    ['mac', vm.mac],
    ['vcpus', String(vm.vcpus)],
    ['memory', `${vm.memoryMib} MiB`],
    ['disk', formatBytes(vm.diskBytes)],
    ['image', vm.image ?? '-'],
    ['kernel', vm.kernel ?? '-'],
    ['boot args', vm.bootArgs || '-'],
    ['pid', vm.pid === null ? '-' : String(vm.pid)],
    ['tap', vm.tap ?? '-'],
    ['socket', vm.socketPath ?? '-'],
    ['created', vm.createdAt],
    ['started', vm.startedAt ?? '-'],
    ['stopped', vm.stoppedAt ?? '-'],
    ['uptime', vmUptime(vm, now)],
    ['last exit', lastExit(vm)],
  ];
  if (consoleLog) rows.push(['console', consoleLog]);
  if (vm.suspended)
    rows.push([
      'saved state',
      `${formatBytes(vm.suspended.sizeBytes)}, saved ${formatAgo(vm.suspended.at, now)} (the next start resumes it)`,
    ]);
  rows.push(['last error', vm.lastError ?? '-']);
  return rows;
}
