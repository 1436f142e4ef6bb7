// The fake engine's pause/resume, snapshots and image-from-VM, with the engine's state rules:
// pause from running, resume from paused, snapshots of running or paused VMs, named once.
import type {
  EngineEvent,
  ImageFromVmInput,
  ImageRecord,
  SnapshotRecord,
  VmRecord,
  VmState,
} from '../../app/contract/api.js';
import { BangerError, ErrorCodes } from '../../app/base/errors.js';
import { LIVE_STATES } from '../../app/contract/api.js';

export interface FakeSnapshotDeps {
  need(name: string): VmRecord;
  update(vm: VmRecord, patch: Partial<VmRecord>): VmRecord;
  requireState(vm: VmRecord, ok: readonly VmState[], what: string): void;
  call(method: string, args: unknown[]): void;
  emit(e: EngineEvent): void;
}

export class FakeSnapshots {
  private readonly snaps = new Map<string, SnapshotRecord[]>();

  constructor(private readonly d: FakeSnapshotDeps) {}

  async pause(name: string): Promise<VmRecord> {
    this.d.call('pauseVm', [name]);
    const vm = this.d.need(name);
    this.d.requireState(vm, ['running'], 'pause');
    return this.d.update(vm, { state: 'paused' });
  }

  async resume(name: string): Promise<VmRecord> {
    this.d.call('resumeVm', [name]);
    const vm = this.d.need(name);
    this.d.requireState(vm, ['paused'], 'resume');
    return this.d.update(vm, { state: 'running' });
  }

  async snapshot(name: string, snap?: string): Promise<SnapshotRecord> {
    this.d.call('snapshotVm', snap === undefined ? [name] : [name, snap]);
    const vm = this.d.need(name);
    this.d.requireState(vm, LIVE_STATES, 'snapshot');
    const list = this.snaps.get(name) ?? [];
    const snapName = snap ?? `snap-${list.length + 1}`;
    if (list.some((s) => s.name === snapName))
      throw new BangerError(ErrorCodes.NAME_TAKEN, `VM "${name}" already has a snapshot named "${snapName}"`);
    const rec: SnapshotRecord = {
      vm: name,
      name: snapName,
      backend: vm.backend,
      parent: list.at(-1)?.name ?? null,
      sizeBytes: vm.memoryMib * 2 ** 20,
      memoryMib: vm.memoryMib,
      vcpus: vm.vcpus,
      createdAt: new Date().toISOString(),
    };
    this.snaps.set(name, [...list, rec]);
    this.d.emit({ type: 'snapshots', vm: name });
    return rec;
  }

  async list(name: string): Promise<SnapshotRecord[]> {
    this.d.need(name);
    return this.snaps.get(name) ?? [];
  }

  async restore(name: string, snap: string): Promise<VmRecord> {
    this.d.call('restoreVm', [name, snap]);
    const vm = this.d.need(name);
    if (!(this.snaps.get(name) ?? []).some((s) => s.name === snap))
      throw new BangerError(ErrorCodes.NOT_FOUND, `VM "${name}" has no snapshot named "${snap}"`);
    return this.d.update(vm, { state: 'running' });
  }

  async remove(name: string, snap: string): Promise<void> {
    this.d.call('removeSnapshot', [name, snap]);
    this.d.need(name);
    this.snaps.set(
      name,
      (this.snaps.get(name) ?? []).filter((s) => s.name !== snap),
    );
    this.d.emit({ type: 'snapshots', vm: name });
  }

  async imageFromVm(input: ImageFromVmInput): Promise<ImageRecord> {
    this.d.call('imageFromVm', [input]);
    throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'fake engine: no image from a VM');
  }
}
