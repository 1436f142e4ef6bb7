// banger vm pause|resume|snapshot|snapshots|restore|snapshot rm: VM state you can keep.
import type { SnapshotRecord } from '../../engine/api.js';
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, needPositional, type ParsedArgs } from '../args.js';
import { table } from '../table.js';
import { formatBytes } from '../../base/human.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

function snapshotTable(snaps: SnapshotRecord[]): string {
  const total = snaps.reduce((n, s) => n + s.sizeBytes, 0);
  return [
    table(
      ['NAME', 'SIZE', 'PARENT', 'MEM', 'CREATED'],
      snaps.map((s) => [s.name, formatBytes(s.sizeBytes), s.parent ?? '-', `${s.memoryMib}M`, s.createdAt]),
    ),
    `${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}, ${formatBytes(total)} on disk`,
  ].join('\n');
}

/** 1 or 2 positionals: NAME [SNAP]. */
function nameAndOptionalSnap(a: ParsedArgs, usage: string): [string, string | undefined] {
  if (a.positional.length < 1 || a.positional.length > 2)
    throw new BangerError(
      ErrorCodes.USAGE,
      `${a.positional.length < 1 ? 'missing' : 'too many'} arguments\nusage: ${usage}`,
    );
  return [a.positional[0], a.positional[1]];
}

export const snapshotCommands: Command[] = [
  ...(['pause', 'resume'] as const).map((verb): Command => ({
    path: ['vm', verb],
    usage: `banger vm ${verb} NAME [--json]`,
    summary: verb === 'pause' ? "freeze a VM's vCPUs (process, IP and DNS record stay)" : 'let a paused VM run again',
    flags: JSON_FLAG,
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      const e = await ctx.engine();
      const vm = verb === 'pause' ? await e.pauseVm(name) : await e.resumeVm(name);
      if (flagBool(a, 'json')) printJson(ctx, vm);
      else ctx.out(`${vm.name} is ${vm.state}`);
    },
  })),
  {
    path: ['vm', 'snapshot'],
    usage: 'banger vm snapshot NAME [SNAP] [--json]',
    summary: 'snapshot a running or paused VM: memory, devices and a copy of its disk',
    flags: JSON_FLAG,
    async run(ctx, a) {
      const [name, snap] = nameAndOptionalSnap(a, this.usage);
      const t0 = Date.now();
      const rec = await (await ctx.engine()).snapshotVm(name, snap);
      if (flagBool(a, 'json')) printJson(ctx, rec);
      else
        ctx.out(
          `snapshot ${rec.name} of ${rec.vm}: ${formatBytes(rec.sizeBytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
    },
  },
  {
    path: ['vm', 'snapshots'],
    usage: 'banger vm snapshots NAME [--json]',
    summary: "list a VM's snapshots and the disk they use",
    flags: JSON_FLAG,
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      const snaps = await (await ctx.engine()).listSnapshots(name);
      if (flagBool(a, 'json')) printJson(ctx, snaps);
      else ctx.out(snaps.length ? snapshotTable(snaps) : `no snapshots: banger vm snapshot ${name.toLowerCase()}`);
    },
  },
  {
    path: ['vm', 'restore'],
    usage: 'banger vm restore NAME SNAP [--json]',
    summary: 'put a VM back to a snapshot (what runs now is discarded); same name, IP and MAC',
    flags: JSON_FLAG,
    async run(ctx, a) {
      const [name, snap] = needPositional(a, 2, this.usage);
      const t0 = Date.now();
      const vm = await (await ctx.engine()).restoreVm(name, snap);
      if (flagBool(a, 'json')) printJson(ctx, vm);
      else ctx.out(`${vm.name} restored from ${snap} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${vm.state}`);
    },
  },
  {
    path: ['vm', 'snapshot', 'rm'],
    usage: 'banger vm snapshot rm NAME SNAP',
    summary: 'delete one snapshot and its files',
    flags: {},
    async run(ctx, a) {
      const [name, snap] = needPositional(a, 2, this.usage);
      await (await ctx.engine()).removeSnapshot(name, snap);
      ctx.out(`deleted snapshot ${snap.toLowerCase()} of ${name.toLowerCase()}`);
    },
  },
];
