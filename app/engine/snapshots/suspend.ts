// Suspend (vm stop --save): the guest's memory and devices go to <vm dir>/suspend and the VMM
// ends; the disk stays where it is, marked (inode, size, mtime). The next start restores that
// state instead of booting, through the same restore steps as a snapshot, after the TAP and
// lease are back (boot's own steps), so it works after an engine restart or a host reboot. A
// VM whose disk, kernel or image changed since, or whose state this VMM cannot load, boots cold
// with a note instead: the saved memory would no longer fit what it finds.
import { refuseSavedStateWithMounts } from '../vm/mounts.js';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileMark, SuspendInfo, VmRecord } from '../../contract/api.js';
import type { SnapshotFiles } from '../driver/contract.js';
import type { ResumeOutcome } from '../vm/lifecycle.js';
import type { SnapshotDeps } from './service.js';
import { allocatedBytes } from './service.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { vmPaths, type Paths } from '../../base/paths.js';

export function suspendFiles(paths: Paths, vmId: string): SnapshotFiles {
  const v = vmPaths(paths, vmId);
  const dir = join(v.dir, 'suspend');
  return { dir, state: join(dir, 'vm.state'), memory: join(dir, 'mem.bin'), disk: v.disk, channel: v.migrateSocket };
}

function mark(path: string): FileMark {
  const st = statSync(path);
  return { path, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

function changed(m: FileMark): boolean {
  try {
    const now = mark(m.path);
    return now.ino !== m.ino || now.size !== m.size || now.mtimeMs !== m.mtimeMs;
  } catch {
    return true;
  }
}

export class Suspender {
  constructor(private readonly d: SnapshotDeps) {}

  /** Save a running or paused VM's state and end its VMM; the VM is then stopped and suspended. */
  async suspend(name: string): Promise<VmRecord> {
    const lc = this.d.lifecycle;
    const vm = lc.get(name);
    lc.requireState(vm, ['running', 'paused'], 'suspend');
    refuseSavedStateWithMounts(vm, 'suspend');
    const drv = lc.driverFor(vm);
    const h = lc.handleOf(vm);
    if (!h) throw new BangerError(ErrorCodes.INVALID_STATE, `cannot suspend VM "${vm.name}": no VMM process`);
    if (!drv.saveSnapshot || !drv.pause || !drv.resume || !drv.restoreSteps)
      throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, `the ${vm.backend} backend cannot suspend VMs`);
    const kernel = vm.kernel ? this.d.store.getKernel(vm.kernel) : null;
    if (!kernel) throw new BangerError(ErrorCodes.UNKNOWN_KERNEL, `VM "${vm.name}" has no kernel`);
    return lc.exclusive(vm, 'suspend', async () => {
      const files = suspendFiles(this.d.paths, vm.id);
      rmSync(files.dir, { recursive: true, force: true });
      mkdirSync(files.dir, { recursive: true, mode: 0o700 });
      const t0 = Date.now();
      let stamp;
      try {
        if (vm.state === 'running') await drv.pause!(h);
        await drv.saveSnapshot!(h, files);
        stamp = (await drv.stampSnapshot?.(h, files)) ?? { backend: vm.backend, version: 'unknown', format: null };
      } catch (err) {
        rmSync(files.dir, { recursive: true, force: true });
        if (vm.state === 'running') await drv.resume!(h).catch(() => undefined);
        throw err;
      }
      // The guest is paused and its state written: the VMM may go without a shutdown.
      const stopped = await lc.stopHeld(lc.get(vm.name), { force: true }).catch((err: unknown) => {
        rmSync(files.dir, { recursive: true, force: true });
        throw err;
      });
      const image = vm.image ? this.d.store.getImage(vm.image) : null;
      const info: SuspendInfo = {
        at: new Date().toISOString(),
        sizeBytes: allocatedBytes(files.dir),
        stamp,
        // Marked after the VMM is gone: nothing writes to it any more.
        disk: mark(files.disk),
        kernel: mark(kernel.path),
        image: image?.name ?? null,
        imageSha: image?.sha256 ?? null,
        memoryMib: vm.memoryMib,
        vcpus: vm.vcpus,
      };
      const ms = Date.now() - t0;
      this.d.store.addEvent('vm', vm.name, `suspended (${ms} ms, ${(info.sizeBytes / 2 ** 20).toFixed(0)} MiB saved)`);
      this.d.logger.info(`vm ${vm.name}: suspended`, { ms, bytes: info.sizeBytes });
      return lc.update(stopped, { suspended: info });
    });
  }

  /** Why the saved state cannot come back, or null when it can. */
  private async staleReason(vm: VmRecord, s: SuspendInfo, files: SnapshotFiles): Promise<string | null> {
    if (changed(s.disk)) return 'its disk changed since the save';
    const kernel = vm.kernel ? this.d.store.getKernel(vm.kernel) : null;
    if (!kernel || kernel.path !== s.kernel.path || changed(s.kernel)) return 'its kernel changed since the save';
    const image = vm.image ? this.d.store.getImage(vm.image) : null;
    if ((image?.name ?? null) !== s.image || (image?.sha256 ?? null) !== s.imageSha)
      return 'its image changed since the save';
    if (s.memoryMib !== vm.memoryMib || s.vcpus !== vm.vcpus || s.stamp.backend !== vm.backend)
      return 'its shape or backend changed since the save';
    try {
      await this.d.lifecycle.driverFor(vm).checkLoadable?.(files, s.stamp);
    } catch (err) {
      return (err as Error).message;
    }
    return null;
  }

  /**
   * The lifecycle's resumer: restore the saved state, or discard it (with a note) and return
   * null so start boots cold. Either way the state is used once.
   */
  async resume(vm: VmRecord, restore: (files: SnapshotFiles) => Promise<VmRecord>): Promise<ResumeOutcome> {
    const s = vm.suspended!;
    const files = suspendFiles(this.d.paths, vm.id);
    const why = await this.staleReason(vm, s, files);
    if (why !== null) return this.cold(vm, why);
    const t0 = Date.now();
    try {
      await restore(files);
    } catch (err) {
      return this.cold(vm, `the saved state did not load (${(err as Error).message})`);
    }
    this.discard(vm);
    this.d.store.addEvent('vm', vm.name, `resumed from suspend (${Date.now() - t0} ms)`);
    return { vm: this.d.lifecycle.update(this.d.lifecycle.get(vm.name), { suspended: null }) };
  }

  private cold(vm: VmRecord, why: string): ResumeOutcome {
    const note = `booted cold: the suspended state was discarded because ${why}`;
    this.discard(vm);
    this.d.store.addEvent('vm', vm.name, note);
    this.d.logger.warn(`vm ${vm.name}: ${note}`);
    this.d.lifecycle.update(this.d.lifecycle.get(vm.name), { suspended: null });
    return { cold: note };
  }

  /**
   * Saved state no record points at (an engine that died between the save and the record):
   * removed by reconcile, never while that VM has an operation in flight.
   */
  sweep(): string[] {
    const removed: string[] = [];
    for (const vm of this.d.store.listVms()) {
      if (vm.suspended || this.d.lifecycle.isBusy(vm.id)) continue;
      const dir = suspendFiles(this.d.paths, vm.id).dir;
      if (!existsSync(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(`suspend state ${vm.name}`);
    }
    return removed;
  }

  /** A snapshot restore replaced the disk: a suspended state saved before no longer fits it. */
  afterRestore(vm: VmRecord): VmRecord {
    if (!vm.suspended) return vm;
    this.discard(vm);
    return this.d.lifecycle.update(vm, { suspended: null });
  }

  /** The saved state goes (after a resume, a cold boot, or a clone/remove of the VM). */
  discard(vm: VmRecord): void {
    rmSync(suspendFiles(this.d.paths, vm.id).dir, { recursive: true, force: true });
  }
}
