// banger vm pause|resume|snapshot|snapshots|restore|snapshot rm: VM state you can keep.
import type { SnapshotRecord } from '../../contract/api.js';
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { table } from '../table.js';
import { formatBytes } from '../../base/human.js';
import { foldVmName } from '../../contract/vm-spec.js';

interface Json {
  json?: boolean;
}

function snapshotTable(snaps: SnapshotRecord[]): string {
  const total = snaps.reduce((n, s) => n + s.sizeBytes, 0);
  return [
    table(
      ['NAME', 'SIZE', 'PARENT', 'MEM', 'VMM', 'CREATED'],
      snaps.map((s) => [
        s.name,
        formatBytes(s.sizeBytes),
        s.parent ?? '-',
        `${s.memoryMib}M`,
        // What wrote it: a restore is refused up front when this host's VMM cannot load it.
        s.stamp ? `${s.stamp.backend} ${s.stamp.version}` : '-',
        s.createdAt,
      ]),
    ),
    `${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}, ${formatBytes(total)} on disk`,
  ].join('\n');
}

export async function pauseOrResume(ctx: CliContext, verb: 'pause' | 'resume', name: string, o: Json) {
  const e = await ctx.engine();
  const vm = verb === 'pause' ? await e.pauseVm(name) : await e.resumeVm(name);
  if (o.json) printJson(ctx, vm);
  else ctx.out(`${vm.name} is ${vm.state}`);
}

export async function snapshot(ctx: CliContext, name: string, snap: string | undefined, o: Json) {
  const t0 = Date.now();
  const rec = await (await ctx.engine()).snapshotVm(name, snap);
  if (o.json) printJson(ctx, rec);
  else
    ctx.out(
      `snapshot ${rec.name} of ${rec.vm}: ${formatBytes(rec.sizeBytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
}

export async function snapshots(ctx: CliContext, name: string, o: Json) {
  const snaps = await (await ctx.engine()).listSnapshots(name);
  if (o.json) printJson(ctx, snaps);
  else ctx.out(snaps.length ? snapshotTable(snaps) : `no snapshots: banger vm snapshot ${foldVmName(name)}`);
}

export async function restore(ctx: CliContext, name: string, snap: string, o: Json) {
  const t0 = Date.now();
  const vm = await (await ctx.engine()).restoreVm(name, snap);
  if (o.json) printJson(ctx, vm);
  else ctx.out(`${vm.name} restored from ${snap} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${vm.state}`);
}

export async function snapshotRm(ctx: CliContext, name: string, snap: string) {
  await (await ctx.engine()).removeSnapshot(name, snap);
  ctx.out(`deleted snapshot ${snap.toLowerCase()} of ${foldVmName(name)}`);
}
