// banger dns ls | setup: the engine's records and the host resolver config for the zone.
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, needPositional } from '../args.js';
import { table } from '../table.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export const dnsCommands: Command[] = [
  {
    path: ['dns', 'ls'],
    usage: 'banger dns ls [--json]',
    summary: 'list DNS records (running VMs)',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const recs = await (await ctx.engine()).dnsRecords();
      if (flagBool(a, 'json')) return printJson(ctx, recs);
      ctx.out(
        recs.length
          ? table(
              ['NAME', 'TYPE', 'VALUE', 'TTL'],
              recs.map((r) => [r.name, r.type, r.value, String(r.ttl)]),
            )
          : 'no records: no VM is running',
      );
    },
  },
  {
    path: ['dns', 'setup'],
    usage: 'banger dns setup [--apply | --remove]',
    summary: 'print (--apply: install, --remove: uninstall) the resolver config that routes .vm to banger',
    flags: { apply: {}, remove: {} },
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      if (!ctx.dnsSetup) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'dns setup is not available here');
      if (flagBool(a, 'apply') && flagBool(a, 'remove'))
        throw new BangerError(ErrorCodes.USAGE, '--apply and --remove exclude each other');
      ctx.out(await ctx.dnsSetup(flagBool(a, 'apply') ? 'apply' : flagBool(a, 'remove') ? 'remove' : 'print'));
    },
  },
];
