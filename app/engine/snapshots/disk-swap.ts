// A restore never loses the VM's disk: the snapshot's disk is copied to `disk.restore` first,
// then (VMM stopped) the current disk steps aside to `disk.prev` and the copy takes its name,
// because the VMM reopens the drive at the path its saved state names. Only a load that
// succeeded deletes `disk.prev`; a failed one, or a crash before the end (reconcile), puts it back.
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';

export interface DiskSwap {
  disk: string;
  incoming: string;
  prev: string;
}

export function diskSwap(disk: string): DiskSwap {
  return { disk, incoming: `${disk}.restore`, prev: `${disk}.prev` };
}

/** cp --reflink=auto --sparse=always into a temp name, then rename: never a half disk. */
export async function copyDisk(runner: ProcessRunner, src: string, dest: string): Promise<void> {
  const tmp = `${dest}.part`;
  try {
    await runner.run(['cp', '--reflink=auto', '--sparse=always', src, tmp], { timeoutMs: 30 * 60_000 });
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The copy takes the disk's name; the disk is kept beside it. */
export function swapIn(s: DiskSwap): void {
  rmSync(s.prev, { force: true });
  if (existsSync(s.disk)) renameSync(s.disk, s.prev);
  renameSync(s.incoming, s.disk);
}

/** The load failed: the VM's own disk back, the copy gone. */
export function swapBack(s: DiskSwap): void {
  if (existsSync(s.prev)) renameSync(s.prev, s.disk);
  rmSync(s.incoming, { force: true });
}

/** The load succeeded: the old disk is history. */
export function swapDone(s: DiskSwap): void {
  rmSync(s.prev, { force: true });
  rmSync(s.incoming, { force: true });
}

/**
 * What a crash mid-restore leaves, set right (never while the VM has an operation in flight):
 * a VM that runs was restored (drop its old disk); one that does not gets its own disk back.
 */
export function sweepSwap(s: DiskSwap, vmRuns: boolean): string | null {
  const had = existsSync(s.prev) || existsSync(s.incoming);
  if (!had) return null;
  if (vmRuns) swapDone(s);
  else swapBack(s);
  return vmRuns ? 'old disk after restore' : 'disk put back after an unfinished restore';
}
