// banger status | doctor | dns ... | engine ...
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { table } from '../table.js';
import { formatDuration } from '../../base/human.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

interface Json {
  json?: boolean;
}

/** "held by uid 1002 (bob)": another process answers on our DNS port. */
export function heldText(h: { uid: number; user: string | null } | undefined): string | undefined {
  return h ? `port held by uid ${h.uid}${h.user ? ` (${h.user})` : ''}, who answers in our place` : undefined;
}

export async function status(ctx: CliContext, o: Json): Promise<void> {
  const s = await (await ctx.engine()).status();
  if (o.json) return printJson(ctx, s);
  const dns = s.dns.listeners.length
    ? s.dns.listeners
        .map(
          (l) =>
            `${l.address}:${l.port} ${l.protocols.join('+')} ${l.up ? 'up' : `DOWN (${heldText(l.heldBy) ?? l.error})`}${l.forwards ? ' forwarding' : ''}`,
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
}

export async function doctor(ctx: CliContext, o: Json): Promise<void> {
  // Never starts an engine: the host is checked from here when the front end can.
  const r = ctx.doctor ? await ctx.doctor() : await (await ctx.engine()).doctor();
  if (o.json) return printJson(ctx, r);
  ctx.out(r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`).join('\n'));
}

export async function dnsLs(ctx: CliContext, o: Json): Promise<void> {
  const recs = await (await ctx.engine()).dnsRecords();
  if (o.json) return printJson(ctx, recs);
  ctx.out(
    recs.length
      ? table(
          ['NAME', 'TYPE', 'VALUE', 'TTL'],
          recs.map((r) => [r.name, r.type, r.value, String(r.ttl)]),
        )
      : 'no records: no VM is running',
  );
}

export async function dnsSetup(ctx: CliContext, o: { apply?: boolean; remove?: boolean }): Promise<void> {
  if (!ctx.dnsSetup) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'dns setup is not available here');
  if (o.apply && o.remove) throw new BangerError(ErrorCodes.USAGE, '--apply and --remove exclude each other');
  ctx.out(await ctx.dnsSetup(o.apply ? 'apply' : o.remove ? 'remove' : 'print'));
}

export async function engineStop(ctx: CliContext, o: { stopVms?: boolean; purge?: boolean }): Promise<void> {
  if (!ctx.stopEngine) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'no engine service to stop here');
  ctx.out(await ctx.stopEngine({ stopVms: !!o.stopVms, purge: !!o.purge }));
}

export async function reconcile(ctx: CliContext, o: Json): Promise<void> {
  const r = await (await ctx.engine()).reconcile();
  if (o.json) return printJson(ctx, r);
  ctx.out(
    `adopted: ${r.adopted.join(', ') || '-'}\nstopped: ${r.stopped.join(', ') || '-'}\norphans removed: ${r.orphansRemoved.join(', ') || '-'}`,
  );
}

export async function events(ctx: CliContext, o: Json): Promise<void> {
  const evs = await (await ctx.engine()).events(200);
  if (o.json) return printJson(ctx, evs);
  ctx.out(
    evs.map((e) => `${e.at}  ${e.kind.padEnd(6)} ${e.subject.padEnd(16)} ${e.message}`).join('\n') || 'no events',
  );
}
