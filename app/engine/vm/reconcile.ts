// Reconcile on engine start and on demand: adopt VMM processes that match running records,
// mark records whose process is gone, sweep orphans, rebuild DNS from what really runs.
import { readdirSync, rmSync } from 'node:fs';
import type { Backend, ReconcileReport, VmRecord } from '../../contract/api.js';
import type { ProcessRunner } from '../../base/process.js';
import type { Store } from '../store.js';
import type { DnsPort, NetworkPort } from '../ports.js';
import type { VmDriver } from '../driver/contract.js';
import type { VmLifecycle } from './lifecycle.js';
import { isOurVmm, listProcs, liveVmmsOf } from './vmm-guard.js';
import { killVerified, procIdentity, sameProcessAlive, startTimeOf, type ProcIdentity } from '../driver/vmm-process.js';
import { vmPaths, vmRuntimeRoot, type Paths } from '../../base/paths.js';
import type { Logger } from '../../base/log.js';
import { isLive, isActive } from '../../contract/vm-facts.js';

export interface ReconcileDeps {
  store: Store;
  paths: Paths;
  logger: Logger;
  drivers: Map<Backend, VmDriver>;
  network: NetworkPort | null;
  dns: DnsPort | null;
  lifecycle: VmLifecycle;
  runner: ProcessRunner;
}

/** Records that may have a VMM: mid boot, running, mid stop, or an error that kept its pid. */
function mayHaveVmm(vm: VmRecord): boolean {
  return isActive(vm.state) || (vm.state === 'error' && !!vm.pid);
}

export async function reconcile(d: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { adopted: [], stopped: [], orphansRemoved: [] };
  const procs = listProcs();
  const tracked = d.lifecycle.runningHandles();
  for (const vm of d.store.listVms()) {
    // A start or stop in flight in this engine owns its process and files: leave it be.
    if (!mayHaveVmm(vm) || tracked.has(vm.id) || d.lifecycle.isBusy(vm.id)) continue;
    await reconcileVm(d, vm, procs, report);
  }

  const all = d.store.listVms();
  const running = all.filter((vm) => isLive(vm.state));
  // Live: running or paused, or mid start/stop in this engine. Their processes, TAPs and files stay.
  // An error VM whose VMM could not be killed keeps what that VMM uses, too.
  const live = all.filter(
    (vm) =>
      running.includes(vm) ||
      d.lifecycle.isBusy(vm.id) ||
      (vm.state === 'error' && sameProcessAlive(vm.pid, vm.pidStartTime ?? null)),
  );
  const liveIds = new Set(live.map((vm) => vm.id));

  // VMM processes (ours: right binary and user) that carry one of our runtime paths but
  // belong to no live record. A kill that does not take is logged, never swallowed.
  const vmsRoot = vmRuntimeRoot(d.paths) + '/';
  const re = new RegExp(`${escapeRe(vmsRoot)}([0-9a-f]{12})/`);
  for (const p of procs) {
    // A jailed VMM names only in-jail paths: its jail and --id say whose it is.
    const jailed = [...d.drivers.values()].some((drv) => drv.inJail?.(p.pid));
    const m = jailed ? /(?:^| )--id ([0-9a-f]{12})(?: |$)/.exec(p.argv.join(' ')) : re.exec(p.argv.join(' '));
    if (!m || liveIds.has(m[1])) continue;
    const id = procIdentity(p.pid);
    if (!id || ![...d.drivers.values()].some((drv) => isOurVmm(id, drv))) continue;
    if (await killVerified(d.runner, id.pid, id.startTime)) report.orphansRemoved.push(`process ${id.pid}`);
    else d.logger.error(`orphan VMM pid ${id.pid} could not be killed`, { argv: id.argv.join(' ') });
  }

  if (d.network) {
    const keep = new Set(live.flatMap((vm) => [vm.tap, d.network!.tapName(vm.id)]).filter((t): t is string => !!t));
    try {
      for (const tap of await d.network.sweepOrphanTaps(keep)) report.orphansRemoved.push(`tap ${tap}`);
    } catch (err) {
      d.logger.warn('orphan TAP sweep failed', { err: String(err) });
    }
  }

  // Sockets and FIFOs of VMs that no longer run.
  let dirs: string[] = [];
  try {
    dirs = readdirSync(vmRuntimeRoot(d.paths));
  } catch {
    /* none yet */
  }
  for (const id of dirs) {
    if (liveIds.has(id)) continue;
    rmSync(vmPaths(d.paths, id).runtimeDir, { recursive: true, force: true });
    report.orphansRemoved.push(`runtime ${id}`);
  }

  // What drivers made for VMs that no longer run (Firecracker's jails).
  for (const drv of new Set(d.drivers.values())) {
    try {
      for (const id of (await drv.sweep?.(liveIds)) ?? []) report.orphansRemoved.push(`jail ${id}`);
    } catch (err) {
      d.logger.warn('jail sweep failed', { err: String(err) });
    }
  }

  d.dns?.setRecords(running.filter((vm) => vm.ip).map((vm) => ({ name: vm.name, ip: vm.ip! })));
  if (report.adopted.length || report.stopped.length || report.orphansRemoved.length) {
    d.logger.info('reconcile', { ...report });
  }
  return report;
}

/**
 * One VM: adopt the VMM that answers and runs its guest; kill (and verify) every other VMM of
 * it (a boot the last engine never finished, a second VMM, one that does not answer); then the
 * record is running, or stopped with its TAP, lease and runtime files released, or error when
 * a VMM could not be killed (it keeps what that VMM uses).
 */
async function reconcileVm(
  d: ReconcileDeps,
  vm: VmRecord,
  procs: { pid: number; argv: string[] }[],
  report: ReconcileReport,
): Promise<void> {
  const drv = d.drivers.get(vm.backend);
  const vmms = drv ? liveVmmsOf(vm, drv, procs) : [];
  let adopted: ProcIdentity | null = null;
  for (const p of vmms) {
    if (adopted || !drv || !vm.socketPath) break;
    if (await drv.probe({ pid: p.pid, socketPath: vm.socketPath }).catch(() => false)) adopted = p;
  }
  const survivors: number[] = [];
  for (const p of vmms) {
    if (p === adopted) continue;
    d.logger.warn(`vm ${vm.name}: killing VMM pid ${p.pid} (${adopted ? 'a second VMM' : 'not running its guest'})`);
    if (await killVerified(d.runner, p.pid, p.startTime)) report.orphansRemoved.push(`process ${p.pid}`);
    else survivors.push(p.pid);
  }
  if (adopted) {
    // A guest paused before the engine went away is adopted paused (as the VMM reports it).
    const h = { pid: adopted.pid, socketPath: vm.socketPath! };
    const state = await drv?.runState?.(h).catch(() => null);
    const next = d.lifecycle.adopt(vm, h, state === 'paused' ? 'paused' : 'running');
    await d.lifecycle.reopenPorts(next);
    report.adopted.push(vm.name);
    return;
  }
  if (survivors.length) {
    const msg = `VMM pid ${survivors.join(', ')} does not run the guest and could not be killed; its TAP and address are kept`;
    d.lifecycle.update(
      vm,
      { state: 'error', pid: survivors[0], pidStartTime: startTimeOf(survivors[0]), lastError: msg },
      msg,
    );
    return;
  }
  await d.lifecycle.release(vm);
  // Unlike a stop (sticky lease), a VM that died unseen gives its address back too.
  d.network?.releaseLease(vm.id);
  const why = vmms.length
    ? `its VMM (pid ${vmms.map((p) => p.pid).join(', ')}) was killed: ${vm.state === 'starting' ? 'the engine died before the boot finished' : 'it did not answer on its socket'}`
    : vm.state === 'starting' && !vm.pid
      ? 'the engine died during the boot, before a VMM was started'
      : `VMM process (pid ${vm.pid ?? '?'}) was gone when the engine came back: it exited while the engine was down`;
  d.lifecycle.update(
    vm,
    {
      state: 'stopped',
      pid: null,
      pidStartTime: null,
      socketPath: null,
      tap: null,
      stoppedAt: new Date().toISOString(),
      lastError: why,
    },
    vmms.length ? 'VMM killed' : 'process gone',
  );
  report.stopped.push(vm.name);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
