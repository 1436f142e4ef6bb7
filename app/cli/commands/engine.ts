// banger engine stop | reconcile | events: the background engine itself.
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, needPositional } from '../args.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export const engineCommands: Command[] = [
  {
    path: ['engine', 'stop'],
    usage: 'banger engine stop [--stop-vms] [--purge]',
    summary: 'stop the background engine (VMs keep running unless --stop-vms; --purge also removes the bridge and NAT)',
    flags: { 'stop-vms': {}, purge: {} },
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      if (!ctx.stopEngine) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'no engine service to stop here');
      ctx.out(await ctx.stopEngine({ stopVms: flagBool(a, 'stop-vms'), purge: flagBool(a, 'purge') }));
    },
  },
  {
    path: ['engine', 'reconcile'],
    usage: 'banger engine reconcile [--json]',
    summary: 'adopt running VMs, mark dead ones stopped, sweep orphans',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const r = await (await ctx.engine()).reconcile();
      if (flagBool(a, 'json')) return printJson(ctx, r);
      ctx.out(
        `adopted: ${r.adopted.join(', ') || '-'}\nstopped: ${r.stopped.join(', ') || '-'}\norphans removed: ${r.orphansRemoved.join(', ') || '-'}`,
      );
    },
  },
  {
    path: ['engine', 'events'],
    usage: 'banger engine events [--json]',
    summary: "the engine's event log (VM state changes and more)",
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const evs = await (await ctx.engine()).events(200);
      if (flagBool(a, 'json')) return printJson(ctx, evs);
      ctx.out(
        evs.map((e) => `${e.at}  ${e.kind.padEnd(6)} ${e.subject.padEnd(16)} ${e.message}`).join('\n') || 'no events',
      );
    },
  },
];
