// vm clone SRC NEW: a stopped VM's copy. The new VM has its own id, so its own MAC (from the
// id), TAP, lease (given at its first start) and DNS record; it shares the source's image,
// kernel and shape, and gets a copy of its disk (reflinked where the filesystem can, else a
// sparse copy). Saved state (snapshots, a suspend) stays with the source: its memory knows the
// source's MAC and address, so the clone boots cold.
import { mkdirSync, rmSync } from 'node:fs';
import type { VmRecord } from '../../contract/api.js';
import type { Store } from '../store.js';
import type { EventBus } from '../events.js';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes, asNoSpace } from '../../base/errors.js';
import { validateName } from '../../contract/vm-spec.js';
import { newVmId, unstarted } from './vm-id.js';
import { vmPaths, type Paths } from '../../base/paths.js';
import { copyDisk } from '../snapshots/disk-swap.js';

export interface CloneDeps {
  store: Store;
  paths: Paths;
  runner: ProcessRunner;
  bus: EventBus;
}

/** Refused unless the source is stopped: a running guest's disk is not a consistent copy. */
export function cloneable(src: VmRecord): void {
  if (!['created', 'stopped', 'error'].includes(src.state))
    throw new BangerError(
      ErrorCodes.INVALID_STATE,
      `cannot clone VM "${src.name}": it is ${src.state} (stop it first: banger vm stop ${src.name})`,
    );
}

export async function cloneVm(d: CloneDeps, source: string, rawName: string): Promise<VmRecord> {
  const src = d.store.getVm(source);
  if (!src) throw new BangerError(ErrorCodes.NOT_FOUND, `no VM named "${source}" (see banger vm ls)`);
  const name = validateName(rawName);
  cloneable(src);
  if (d.store.getVm(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named "${name}" already exists`);
  // TAP names carry the first 6 hex of the id: keep them unique among our VMs.
  const taken = new Set(d.store.listVms().map((v) => v.id.slice(0, 6)));
  let id = newVmId();
  while (taken.has(id.slice(0, 6))) id = newVmId();
  const now = new Date().toISOString();
  const vm: VmRecord = {
    ...src,
    id,
    name,
    ...unstarted(id, now),
    suspended: null,
    // A host port is one VM's: the copy publishes none (vm port add gives it its own).
    ports: [],
  };
  const dir = vmPaths(d.paths, id).dir;
  let out: VmRecord;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await copyDisk(d.runner, vmPaths(d.paths, src.id).disk, vmPaths(d.paths, id).disk);
    out = d.store.insertVm(vm);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw asNoSpace(err, `copying the disk of VM "${src.name}" for "${name}"`);
  }
  d.store.addEvent('vm', name, `created as a clone of ${src.name}`);
  d.bus.emit({ type: 'vm', vm: out });
  return out;
}
