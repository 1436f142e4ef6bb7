// banger vm port add/rm/ls. --json (ls): the VM's PortSpec records as stored, [] when none.
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { table } from '../table.js';
import type { VmRecord } from '../../contract/api.js';
import { formatAddr, formatPort } from '../../contract/port-spec.js';
import { isLive } from '../../contract/vm-facts.js';

function when(vm: VmRecord): string {
  return isLive(vm.state) ? 'now' : 'at its next start';
}

export async function add(ctx: CliContext, name: string, spec: string): Promise<void> {
  const vm = await (await ctx.engine()).addPort(name, spec);
  const p = vm.ports!.at(-1)!;
  ctx.out(`${vm.name}: ${formatPort(p)} published (listening ${when(vm)})`);
}

export async function rm(ctx: CliContext, name: string, key: string): Promise<void> {
  const e = await ctx.engine();
  const before = (await e.getVm(name)).ports ?? [];
  const vm = await e.removePort(name, key);
  const gone = before.filter((p) => !(vm.ports ?? []).some((q) => formatPort(q) === formatPort(p)));
  ctx.out(`${vm.name}: ${gone.map(formatPort).join(', ')} no longer published`);
}

export async function ls(ctx: CliContext, name: string, o: { json?: boolean }): Promise<void> {
  const vm = await (await ctx.engine()).getVm(name);
  const ports = vm.ports ?? [];
  if (o.json) return printJson(ctx, ports);
  ctx.out(
    ports.length
      ? table(
          ['HOST', 'GUEST', 'PROTO'],
          ports.map((p) => [`${formatAddr(p.addr)}:${p.hostPort}`, String(p.guestPort), p.proto]),
        )
      : `${vm.name} publishes no ports: banger vm port add ${vm.name} 8080:80`,
  );
}
