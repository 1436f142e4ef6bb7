// Shared folders on the VM record: checked against the real filesystem with the contract's
// rules (app/contract/mounts.ts), changed only while the VM is stopped (QEMU's devices are
// fixed at launch), stored in one update, so a refused change leaves nothing behind.
import { realpathSync, statSync } from 'node:fs';
import type { Backend, MountSpec, VmRecord } from '../../contract/api.js';
import { planMounts, withoutMount, type HostDirCheck } from '../../contract/mounts.js';
import type { Store } from '../store.js';
import type { EventBus } from '../events.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

/** The host side of the check: a directory, by its real path (symlinks resolved). */
export const hostDirCheck: HostDirCheck = (p) => {
  try {
    if (!statSync(p).isDirectory()) return { kind: 'not-dir' };
    return { kind: 'dir', realPath: realpathSync(p) };
  } catch {
    return { kind: 'missing' };
  }
};

/** Firecracker has no virtio-fs device: refuse there, before anything is stored. */
export function mountsSupported(backend: Backend, mounts: MountSpec[] | undefined): void {
  if (backend === 'firecracker' && mounts?.length)
    throw new BangerError(
      ErrorCodes.INVALID_MOUNT,
      'shared folders need the qemu backend (Firecracker has no virtio-fs device): use --backend qemu',
    );
}

/** The mounts of a new VM from its raw specs (absolute host dirs; the CLI resolves relative ones). */
export function mountsForCreate(raws: unknown, backend: Backend): MountSpec[] | undefined {
  if (raws === undefined || raws === null) return undefined;
  if (!Array.isArray(raws) || raws.some((r) => typeof r !== 'string'))
    throw new BangerError(ErrorCodes.INVALID_MOUNT, 'mounts must be a list of HOSTDIR[:GUESTDIR][:ro] strings');
  const mounts = planMounts([], raws as string[], null, hostDirCheck);
  mountsSupported(backend, mounts);
  return mounts.length ? mounts : undefined;
}

function stoppedVm(store: Store, name: string, verb: string): VmRecord {
  const vm = store.getVm(name);
  if (!vm) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named "${name}" (see banger vm ls)`);
  if (!['created', 'stopped', 'error'].includes(vm.state))
    throw new BangerError(
      ErrorCodes.INVALID_STATE,
      `cannot ${verb} a shared folder of VM "${vm.name}": it is ${vm.state} (stop it first: banger vm stop ${vm.name})`,
    );
  return vm;
}

export interface MountDeps {
  store: Store;
  bus: EventBus;
}

export function addVmMount(d: MountDeps, name: string, spec: string): VmRecord {
  const vm = stoppedVm(d.store, name, 'add');
  const before = vm.mounts ?? [];
  const mounts = planMounts(before, [spec], null, hostDirCheck);
  mountsSupported(vm.backend, mounts);
  const added = mounts[mounts.length - 1];
  const out = d.store.updateVm(vm.id, { mounts });
  d.store.addEvent(
    'vm',
    vm.name,
    `shared folder ${added.hostDir} at ${added.guestDir}${added.readOnly ? ' (ro)' : ''}`,
  );
  d.bus.emit({ type: 'vm', vm: out });
  return out;
}

export function removeVmMount(d: MountDeps, name: string, guestDir: string): VmRecord {
  const vm = stoppedVm(d.store, name, 'remove');
  const mounts = withoutMount(vm.mounts ?? [], guestDir);
  const out = d.store.updateVm(vm.id, { mounts });
  d.store.addEvent('vm', vm.name, `shared folder at ${guestDir} removed`);
  d.bus.emit({ type: 'vm', vm: out });
  return out;
}

/** QEMU cannot save a vhost-user-fs device's state: refuse snapshot and suspend up front. */
export function refuseSavedStateWithMounts(vm: VmRecord, verb: string): void {
  if (vm.mounts?.length)
    throw new BangerError(
      ErrorCodes.INVALID_STATE,
      `cannot ${verb} VM "${vm.name}": it has shared folders, whose state QEMU cannot save (vm mount rm while stopped, or stop it instead)`,
    );
}
