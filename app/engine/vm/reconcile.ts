// Reconcile on engine start and on demand: adopt VMM processes that match running records,
// mark records whose process is gone, sweep orphans, rebuild DNS from what really runs.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import psList from 'ps-list';
import type { Backend, ReconcileReport } from '../api.js';
import type { Store } from '../store.js';
import type { DnsPort, NetworkPort } from '../ports.js';
import type { VmDriver } from './driver.js';
import { vmRuntimeDir, type VmLifecycle } from './lifecycle.js';
import { pidAlive as isAlive } from '../../pid.js';
import type { Paths } from '../../paths.js';
import type { Logger } from '../../log.js';

export interface ReconcileDeps {
  store: Store;
  paths: Paths;
  logger: Logger;
  drivers: Map<Backend, VmDriver>;
  network: NetworkPort | null;
  dns: DnsPort | null;
  lifecycle: VmLifecycle;
}

export async function reconcile(d: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { adopted: [], stopped: [], orphansRemoved: [] };
  const procs = (await psList({ all: true })).filter((p) => p.cmd && p.pid !== process.pid);
  const tracked = d.lifecycle.runningHandles();

  for (const vm of d.store.listVms()) {
    // A start or stop in flight in this engine owns its process and files: leave it be.
    if (!['running', 'starting', 'stopping'].includes(vm.state) || tracked.has(vm.id) || d.lifecycle.isBusy(vm.id))
      continue;
    const drv = d.drivers.get(vm.backend);
    // sudo's own process carries the same command line; the real VMM is the deepest match.
    const matches = drv ? procs.filter((p) => drv.ownsProcess(p.cmd!, vm) && isAlive(p.pid) && !isSudo(p.cmd!)) : [];
    const proc = matches.find((p) => !matches.some((q) => q.ppid === p.pid)) ?? matches[0];
    if (proc && drv && vm.socketPath) {
      const answers = await drv.probe({ pid: proc.pid, socketPath: vm.socketPath }).catch(() => false);
      if (!answers) d.logger.warn(`vm ${vm.name}: adopted pid ${proc.pid}, but its socket does not answer`);
      d.lifecycle.adopt(vm, { pid: proc.pid, socketPath: vm.socketPath });
      report.adopted.push(vm.name);
      continue;
    }
    await d.lifecycle.release(vm);
    // Unlike a stop (sticky lease), a VM that died unseen gives its address back too.
    d.network?.releaseLease(vm.id);
    d.lifecycle.update(
      vm,
      {
        state: 'stopped',
        pid: null,
        socketPath: null,
        tap: null,
        stoppedAt: new Date().toISOString(),
        lastError: `VMM process (pid ${vm.pid ?? '?'}) was gone when the engine came back: it exited while the engine was down`,
      },
      'process gone',
    );
    report.stopped.push(vm.name);
  }

  const all = d.store.listVms();
  const running = all.filter((vm) => vm.state === 'running');
  // Live: running, or mid start/stop in this engine. Their processes, TAPs and files stay.
  const live = all.filter((vm) => vm.state === 'running' || d.lifecycle.isBusy(vm.id));
  const liveIds = new Set(live.map((vm) => vm.id));

  // VMM processes that carry one of our runtime paths but belong to no running record.
  const vmsRoot = join(d.paths.runtimeDir, 'vms') + '/';
  for (const p of procs) {
    const m = p.cmd!.includes(vmsRoot) ? new RegExp(`${escapeRe(vmsRoot)}([0-9a-f]{12})/`).exec(p.cmd!) : null;
    if (m && !liveIds.has(m[1]) && !isSudo(p.cmd!)) {
      try {
        process.kill(p.pid, 'SIGKILL');
        report.orphansRemoved.push(`process ${p.pid}`);
      } catch {
        /* gone or not ours */
      }
    }
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
    dirs = readdirSync(join(d.paths.runtimeDir, 'vms'));
  } catch {
    /* none yet */
  }
  for (const id of dirs) {
    if (liveIds.has(id)) continue;
    rmSync(vmRuntimeDir(d.paths, id), { recursive: true, force: true });
    report.orphansRemoved.push(`runtime ${id}`);
  }

  d.dns?.setRecords(running.filter((vm) => vm.ip).map((vm) => ({ name: vm.name, ip: vm.ip! })));
  if (report.adopted.length || report.stopped.length || report.orphansRemoved.length) {
    d.logger.info('reconcile', { ...report });
  }
  return report;
}

/** sudo's own process carries the VMM's command line too; only the VMM itself counts. */
function isSudo(cmd: string): boolean {
  return /^sudo\b|\/sudo\s/.test(cmd);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
