// Pause/resume and snapshots of VMs. A snapshot is the VMM's state (and memory) written while
// the guest is paused, plus a copy of its disk taken in the same pause (reflinked where the
// filesystem can, else sparse), and the VMM version that wrote it. Files live in the VM's dir,
// records in the store. A restore asks the VMM whether it can load the state before anything
// changes, then swaps the disk copy in and boots through the driver's restore steps; a failed
// load puts the VM's own disk back (disk-swap.ts).
import { refuseSavedStateWithMounts } from '../vm/mounts.js';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotRecord, VmmStamp, VmRecord } from '../../contract/api.js';
import type { Store } from '../store.js';
import type { EventBus } from '../events.js';
import type { ProcessRunner } from '../../base/process.js';
import type { SnapshotFiles, VmmHandle } from '../driver/contract.js';
import type { VmLifecycle } from '../vm/lifecycle.js';
import { SnapshotStore } from './store.js';
import { copyDisk, diskSwap, swapBack, swapDone, swapIn, sweepSwap } from './disk-swap.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { vmPaths, type Paths } from '../../base/paths.js';
import type { Logger } from '../../base/log.js';
import { isLive } from '../../contract/vm-facts.js';
import { LIVE_STATES } from '../../contract/api.js';

const SNAP_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface SnapshotDeps {
  store: Store;
  paths: Paths;
  runner: ProcessRunner;
  logger: Logger;
  bus: EventBus;
  lifecycle: VmLifecycle;
}

export function validateSnapshotName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (!SNAP_NAME.test(name))
    throw new BangerError(
      ErrorCodes.INVALID_NAME,
      `invalid snapshot name ${JSON.stringify(raw ?? null)}: 1-63 of a-z 0-9 . _ -, starting with a letter or digit`,
    );
  return name;
}

export function snapshotFiles(paths: Paths, vmId: string, snap: string): SnapshotFiles {
  const dir = join(vmPaths(paths, vmId).snapshotsDir, snap);
  return {
    dir,
    state: join(dir, 'vm.state'),
    memory: join(dir, 'mem.bin'),
    disk: join(dir, 'disk.ext4'),
    channel: vmPaths(paths, vmId).migrateSocket,
  };
}

/** Bytes the files really take (allocated blocks: sparse and reflinked copies count as stored). */
export function allocatedBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).blocks * 512;
  return n;
}

export class Snapshots {
  readonly records: SnapshotStore;

  constructor(private readonly d: SnapshotDeps) {
    this.records = new SnapshotStore(d.store);
  }

  private live(vm: VmRecord, verb: string): { h: VmmHandle; drv: ReturnType<VmLifecycle['driverFor']> } {
    const drv = this.d.lifecycle.driverFor(vm);
    const h = this.d.lifecycle.handleOf(vm);
    if (!h) throw new BangerError(ErrorCodes.INVALID_STATE, `cannot ${verb} VM "${vm.name}": no VMM process`);
    return { h, drv };
  }

  async pause(name: string): Promise<VmRecord> {
    const vm = this.d.lifecycle.get(name);
    this.d.lifecycle.requireState(vm, ['running'], 'pause');
    const { h, drv } = this.live(vm, 'pause');
    if (!drv.pause) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `the ${vm.backend} backend cannot pause`);
    return this.d.lifecycle.exclusive(vm, 'pause', async () => {
      await drv.pause!(h);
      return this.d.lifecycle.update(this.d.lifecycle.get(vm.name), { state: 'paused' }, 'vCPUs paused');
    });
  }

  async resume(name: string): Promise<VmRecord> {
    const vm = this.d.lifecycle.get(name);
    this.d.lifecycle.requireState(vm, ['paused'], 'resume');
    const { h, drv } = this.live(vm, 'resume');
    if (!drv.resume) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `the ${vm.backend} backend cannot resume`);
    return this.d.lifecycle.exclusive(vm, 'resume', async () => {
      await drv.resume!(h);
      return this.d.lifecycle.update(this.d.lifecycle.get(vm.name), { state: 'running' }, 'resumed');
    });
  }

  list(name: string): SnapshotRecord[] {
    return this.records.list(this.d.lifecycle.get(name).id);
  }

  async snapshot(name: string, rawSnap?: string): Promise<SnapshotRecord> {
    const vm = this.d.lifecycle.get(name);
    const snap = rawSnap === undefined || rawSnap === null ? defaultName() : validateSnapshotName(rawSnap);
    this.d.lifecycle.requireState(vm, LIVE_STATES, 'snapshot');
    refuseSavedStateWithMounts(vm, 'snapshot');
    if (this.records.get(vm.id, snap))
      throw new BangerError(ErrorCodes.NAME_TAKEN, `VM "${vm.name}" already has a snapshot named "${snap}"`);
    const { h, drv } = this.live(vm, 'snapshot');
    if (!drv.saveSnapshot || !drv.pause || !drv.resume)
      throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `the ${vm.backend} backend cannot take snapshots`);
    return this.d.lifecycle.exclusive(vm, 'snapshot', () => this.take(vm, snap, h, drv));
  }

  private async take(
    vm: VmRecord,
    snap: string,
    h: VmmHandle,
    drv: ReturnType<VmLifecycle['driverFor']>,
  ): Promise<SnapshotRecord> {
    const files = snapshotFiles(this.d.paths, vm.id, snap);
    // A dir without a record is what a crash mid-snapshot leaves: it is ours to replace.
    rmSync(files.dir, { recursive: true, force: true });
    mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    const wasPaused = vm.state === 'paused';
    const t0 = Date.now();
    let stamp: VmmStamp | null = null;
    try {
      if (!wasPaused) await drv.pause!(h);
      try {
        await drv.saveSnapshot!(h, files);
        stamp = (await drv.stampSnapshot?.(h, files)) ?? null;
        // The disk copy is taken in the same pause: memory and disk agree.
        await copyDisk(this.d.runner, vmPaths(this.d.paths, vm.id).disk, files.disk);
      } finally {
        if (!wasPaused) await drv.resume!(h);
      }
    } catch (err) {
      rmSync(files.dir, { recursive: true, force: true });
      throw err;
    }
    const ms = Date.now() - t0;
    const rec = this.records.insert(vm.id, {
      vm: vm.name,
      name: snap,
      backend: vm.backend,
      parent: this.records.head(vm.id),
      sizeBytes: allocatedBytes(files.dir),
      memoryMib: vm.memoryMib,
      vcpus: vm.vcpus,
      createdAt: new Date().toISOString(),
      stamp,
    });
    this.d.store.addEvent('vm', vm.name, `snapshot ${snap} taken (${ms} ms)`);
    this.d.logger.info(`vm ${vm.name}: snapshot ${snap} taken`, { ms, bytes: rec.sizeBytes });
    this.d.bus.emit({ type: 'snapshots', vm: vm.name });
    return rec;
  }

  async restore(name: string, rawSnap: string): Promise<VmRecord> {
    let vm = this.d.lifecycle.get(name);
    const snap = validateSnapshotName(rawSnap);
    const rec = this.records.get(vm.id, snap);
    if (!rec) throw new BangerError(ErrorCodes.NOT_FOUND, `VM "${vm.name}" has no snapshot named "${snap}"`);
    if (rec.memoryMib !== vm.memoryMib || rec.vcpus !== vm.vcpus || rec.backend !== vm.backend)
      throw new BangerError(ErrorCodes.INVALID_STATE, `snapshot "${snap}" was taken with another VM shape or backend`);
    const drv = this.d.lifecycle.driverFor(vm);
    if (!drv.restoreSteps)
      throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `the ${vm.backend} backend cannot restore snapshots`);
    if (this.d.lifecycle.isBusy(vm.id))
      throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is busy: try again when it is done`);
    const files = snapshotFiles(this.d.paths, vm.id, snap);
    // Before anything changes: a load this VMM refuses would end it and leave nothing running.
    await drv.checkLoadable?.(files, rec.stamp ?? null);
    const t0 = Date.now();
    const swap = diskSwap(vmPaths(this.d.paths, vm.id).disk);
    await copyDisk(this.d.runner, files.disk, swap.incoming);
    let out: VmRecord;
    try {
      // The state now running is being replaced: no graceful shutdown of it.
      if (isLive(vm.state)) vm = await this.d.lifecycle.stop(vm.name, { force: true });
      out = await this.d.lifecycle.startRestored(vm.name, files, {
        prepare: async () => swapIn(swap),
        rollback: async () => {
          swapBack(swap);
          this.d.store.addEvent('vm', vm.name, `restore of ${snap} failed: its own disk was put back`);
        },
      });
    } catch (err) {
      rmSync(swap.incoming, { force: true });
      throw err;
    }
    swapDone(swap);
    this.records.setHead(vm.id, snap);
    this.d.store.addEvent('vm', vm.name, `restored from snapshot ${snap} (${Date.now() - t0} ms)`);
    this.d.bus.emit({ type: 'snapshots', vm: vm.name });
    return out;
  }

  /**
   * What a crash mid-snapshot or mid-restore leaves: snapshot dirs without a record, a half
   * copied disk. Reconcile removes them (never while that VM has an operation in flight).
   */
  sweep(): string[] {
    const removed: string[] = [];
    for (const vm of this.d.store.listVms()) {
      if (this.d.lifecycle.isBusy(vm.id)) continue;
      const disk = vmPaths(this.d.paths, vm.id).disk;
      for (const part of [`${disk}.part`, `${disk}.restore.part`]) {
        if (!existsSync(part)) continue;
        rmSync(part, { force: true });
        removed.push(`disk copy ${vm.name}`);
      }
      const swapped = sweepSwap(diskSwap(disk), vm.state === 'running' || vm.state === 'paused');
      if (swapped) removed.push(`${swapped} ${vm.name}`);
      const dir = vmPaths(this.d.paths, vm.id).snapshotsDir;
      const known = new Set(this.records.list(vm.id).map((s) => s.name));
      for (const snap of existsSync(dir) ? readdirSync(dir) : []) {
        if (known.has(snap)) continue;
        rmSync(join(dir, snap), { recursive: true, force: true });
        removed.push(`snapshot ${vm.name}/${snap}`);
      }
    }
    return removed;
  }

  async remove(name: string, rawSnap: string): Promise<void> {
    const vm = this.d.lifecycle.get(name);
    const snap = validateSnapshotName(rawSnap);
    if (!this.records.get(vm.id, snap))
      throw new BangerError(ErrorCodes.NOT_FOUND, `VM "${vm.name}" has no snapshot named "${snap}"`);
    if (this.d.lifecycle.isBusy(vm.id))
      throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is busy: try again when it is done`);
    // Record first: a crash after it leaves a dir the next snapshot of that name replaces.
    this.records.remove(vm.id, snap);
    rmSync(snapshotFiles(this.d.paths, vm.id, snap).dir, { recursive: true, force: true });
    this.d.store.addEvent('vm', vm.name, `snapshot ${snap} deleted`);
    this.d.bus.emit({ type: 'snapshots', vm: vm.name });
  }
}

function defaultName(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `snap-${t}-${String(Date.now() % 1000).padStart(3, '0')}`;
}
