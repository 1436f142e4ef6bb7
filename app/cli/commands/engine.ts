// banger status | doctor | dns ... | engine ...
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, needPositional } from '../args.js';
import { formatDuration, table } from '../format.js';
import { BangerError, ErrorCodes } from '../../errors.js';

export const engineCommands: Command[] = [
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
