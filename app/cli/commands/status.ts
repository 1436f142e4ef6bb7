// banger status: what the engine is, where, and what it runs.
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, needPositional } from '../args.js';
import { formatDuration } from '../../base/human.js';

export const statusCommands: Command[] = [
  {
    path: ['status'],
    usage: 'banger status [--json]',
    summary: 'engine pid, uptime, build, mode, socket, DNS listener, VM counts, backends',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const s = await (await ctx.engine()).status();
      if (flagBool(a, 'json')) return printJson(ctx, s);
      const dns = s.dns.listeners.length
        ? s.dns.listeners
            .map(
              (l) =>
                `${l.address}:${l.port} ${l.protocols.join('+')} ${l.up ? 'up' : `DOWN (${l.error})`}${l.forwards ? ' forwarding' : ''}`,
            )
            .join('; ')
        : 'not running';
      const g = s.dns.guests;
      const guests = !g
        ? '-'
        : g.via === 'gateway'
          ? `the gateway ${g.servers.join(', ')}`
          : g.via === 'host'
            ? `the host's resolvers ${g.servers.join(', ')} (gateway listener down, retrying)`
            : `the gateway ${g.servers.join(', ')} (its listener is down, retrying; the host has no resolver guests can use)`;
      const counts = (['running', 'paused', 'starting', 'stopping', 'stopped', 'created', 'error'] as const)
        .filter((k) => s.vms[k] > 0)
        .map((k) => `${s.vms[k]} ${k}`)
        .join(', ');
      ctx.out(
        [
          `engine    pid ${s.pid}, up ${formatDuration(s.uptimeSec)}, ${s.mode}, build ${s.buildId}`,
          `socket    ${s.controlSocket ?? '-'}`,
          `state     ${s.stateDir}`,
          `dns       zone ${s.dns.zone}., ${s.dns.records} records; ${dns}`,
          `guest dns ${guests}`,
          `settings  ${s.settings?.length ? s.settings.map((x) => `${x.key}=${JSON.stringify(x.value)} (${x.source})`).join(', ') : 'defaults'}`,
          `vms       ${s.vms.total} total${counts ? `: ${counts}` : ''}`,
          `backends  ${s.backends.map((b) => `${b.name} ${b.available ? 'available' : 'unavailable'}`).join(', ')} (default ${s.defaultBackend})`,
        ].join('\n'),
      );
    },
  },
];
