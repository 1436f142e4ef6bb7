// Never two VMMs for one VM, never one lost: find every live VMM of a VM (the recorded pid and
// start time, plus any process that carries the VM's id or socket, runs the backend's binary
// and belongs to an expected user), and the graceful-stop wait a VM gets.
import { readdirSync, readFileSync } from 'node:fs';
import type { ImageInit, ImageRecord, VmRecord } from '../../contract/api.js';
import type { Config } from '../config.js';
import type { VmDriver } from '../driver/contract.js';
import { procIdentity, runsExecutable, sameProcessAlive, type ProcIdentity } from '../driver/vmm-process.js';

/** Graceful-stop waits by init: busybox halts at once; systemd stops services (Firecracker's tests allow 120 s). */
export const STOP_TIMEOUT_BY_INIT: Record<ImageInit, number> = {
  busybox: 15_000,
  systemd: 120_000,
  other: 30_000,
};

/** The wait for one VM: its own setting, else the engine's configured one, else by its image's init. */
export function stopTimeoutFor(vm: VmRecord, image: ImageRecord | null, config: Config): number {
  if (vm.stopTimeoutMs !== undefined && vm.stopTimeoutMs !== null) return vm.stopTimeoutMs;
  if (config.stopTimeoutMs !== null) return config.stopTimeoutMs;
  return STOP_TIMEOUT_BY_INIT[image?.init ?? 'other'] ?? STOP_TIMEOUT_BY_INIT.other;
}

/** Every process on the host, as pid and argv (the cheap part of an identity). */
export function listProcs(): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    const pid = Number(n);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[argv.length - 1] === '') argv.pop();
      if (argv.length) out.push({ pid, argv });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Is this process a VMM this engine could have launched: in one of its jails, or its binary run by an expected user? */
export function isOurVmm(id: ProcIdentity, drv: VmDriver): boolean {
  // Rooted in one of our jails (root's dirs: only the jailer we ran pivots there): ours, whatever
  // uid the jail gave it; anything else must run our binary as an expected user.
  if (drv.inJail?.(id.pid)) return true;
  return drv.vmmOwners().includes(id.uid) && runsExecutable(id.argv, drv.executable());
}

/**
 * The live VMMs of one VM: the recorded one (pid and start time both match) and any process
 * that names this VM and passes isOurVmm. A stranger that merely carries the VM's id is ignored.
 */
export function liveVmmsOf(
  vm: VmRecord,
  drv: VmDriver,
  procs: { pid: number; argv: string[] }[] = listProcs(),
): ProcIdentity[] {
  const found = new Map<number, ProcIdentity>();
  if (vm.pid && vm.pidStartTime !== undefined && vm.pidStartTime !== null) {
    const id = procIdentity(vm.pid);
    if (id && sameProcessAlive(vm.pid, vm.pidStartTime) && isOurVmm(id, drv)) found.set(id.pid, id);
  }
  for (const p of procs) {
    if (found.has(p.pid) || !drv.ownsProcess(p.argv.join('\0'), vm)) continue;
    const id = procIdentity(p.pid);
    if (id && isOurVmm(id, drv)) found.set(id.pid, id);
  }
  return [...found.values()];
}
