// banger doctor: can this host run VMs, and with which backend.
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, needPositional } from '../args.js';

export const doctorCommands: Command[] = [
  {
    path: ['doctor'],
    usage: 'banger doctor [--json]',
    summary: 'check this host: VMM binaries, /dev/kvm, CPU virtualization, tools',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      // Never starts an engine: the host is checked from here when the front end can.
      const r = ctx.doctor ? await ctx.doctor() : await (await ctx.engine()).doctor();
      if (flagBool(a, 'json')) return printJson(ctx, r);
      ctx.out(r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`).join('\n'));
    },
  },
];
