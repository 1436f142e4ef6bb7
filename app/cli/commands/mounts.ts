// banger vm mount add|rm|ls: a stopped VM's shared folders. HOSTDIR is made absolute here (the
// engine runs elsewhere); the engine checks the rest with the contract's rules.
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { table } from '../table.js';
import { absoluteMountSpec } from '../../contract/mounts.js';
import type { MountSpec } from '../../contract/api.js';

interface Json {
  json?: boolean;
}

export const MOUNT_HEADERS = ['TAG', 'GUESTDIR', 'HOSTDIR', 'MODE'];

export function mountRows(mounts: MountSpec[]): string[][] {
  return mounts.map((m) => [m.tag, m.guestDir, m.hostDir, m.readOnly ? 'ro' : 'rw']);
}

/** --mount specs with relative host dirs resolved against this process's cwd. */
export function absoluteSpecs(specs: string[] | undefined, cwd = process.cwd()): string[] | undefined {
  return specs?.map((s) => absoluteMountSpec(s, cwd));
}

export async function add(ctx: CliContext, name: string, spec: string, o: Json): Promise<void> {
  const vm = await (await ctx.engine()).addVmMount(name, absoluteMountSpec(spec, process.cwd()));
  const m = vm.mounts![vm.mounts!.length - 1];
  if (o.json) return printJson(ctx, m);
  ctx.out(`${vm.name}: ${m.hostDir} on ${m.guestDir} (${m.readOnly ? 'ro' : 'rw'}), from the next start`);
}

export async function rm(ctx: CliContext, name: string, guestDir: string, o: Json): Promise<void> {
  const vm = await (await ctx.engine()).removeVmMount(name, guestDir);
  if (o.json) return printJson(ctx, vm.mounts ?? []);
  ctx.out(`${vm.name}: shared folder at ${guestDir} removed, from the next start`);
}

export async function ls(ctx: CliContext, name: string, o: Json): Promise<void> {
  const vm = await (await ctx.engine()).getVm(name);
  const mounts = vm.mounts ?? [];
  if (o.json) return printJson(ctx, mounts);
  ctx.out(mounts.length ? table(MOUNT_HEADERS, mountRows(mounts)) : `${vm.name} has no shared folders`);
}
