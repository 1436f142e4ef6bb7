// banger vm ...: record and lifecycle verbs. Human tables by default, stable records with --json.
// Parsing and usage errors happen before these run (app/cli/tree.ts); each loads on first use.
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { VM_HEADERS, table, vmDetail, vmRow } from '../table.js';
import { attachConsole } from '../console.js';
import { clientSshArgv } from '../ssh.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { formatBytes } from '../../base/human.js';
import { isLive } from '../../contract/vm-facts.js';
import { foldVmName } from '../../contract/vm-spec.js';
import { readFirstBoot } from '../first-boot.js';
import { absoluteSpecs } from './mounts.js';

interface Json {
  json?: boolean;
}

export interface CreateOpts extends Json {
  name?: string;
  image?: string;
  kernel?: string;
  vcpus?: number;
  memory?: number;
  disk?: string;
  backend?: string;
  bootArgs?: string;
  stopTimeout?: number;
  publish?: string[];
  start?: boolean;
  /** --user-data FILE */
  userData?: string;
  /** --ssh-key FILE (repeatable) */
  sshKey?: string[];
  mount?: string[];
  run?: boolean;
}

export async function create(ctx: CliContext, positional: string | undefined, o: CreateOpts): Promise<void> {
  if (positional !== undefined && o.name !== undefined && positional !== o.name) {
    throw new BangerError(ErrorCodes.USAGE, `two names given: "${positional}" and --name "${o.name}"`);
  }
  const name = positional ?? o.name;
  if (name === undefined) {
    throw new BangerError(ErrorCodes.USAGE, 'missing arguments\nusage: banger vm create NAME [flags] (or --name NAME)');
  }
  const firstBoot = readFirstBoot(o);
  for (const w of firstBoot.warnings) ctx.err(`warning: ${w}`);
  const vm = await (
    await ctx.engine()
  ).createVm({
    name,
    ...(firstBoot.userData !== undefined ? { userData: firstBoot.userData } : {}),
    ...(firstBoot.sshKeys ? { sshKeys: firstBoot.sshKeys } : {}),
    image: o.image,
    kernel: o.kernel,
    vcpus: o.vcpus,
    memoryMib: o.memory,
    disk: o.disk,
    backend: o.backend,
    bootArgs: o.bootArgs,
    stopTimeoutMs: o.stopTimeout === undefined ? undefined : o.stopTimeout * 1000,
    start: !!o.start,
    ...(o.mount ? { mounts: absoluteSpecs(o.mount) } : {}),
    ...(o.publish?.length ? { publish: o.publish } : {}),
    ...(o.run ? { run: true } : {}),
  });
  if (o.json) printJson(ctx, vm);
  else
    ctx.out(
      `${vm.state === 'running' ? 'started' : 'created'} ${vm.name} (${vm.backend}, ${vm.vcpus} vCPU, ${vm.memoryMib} MiB)`,
    );
}

export async function ls(ctx: CliContext, o: Json): Promise<void> {
  const vms = await (await ctx.engine()).listVms();
  if (o.json) return printJson(ctx, vms);
  ctx.out(
    vms.length
      ? table(
          VM_HEADERS,
          vms.map((vm) => vmRow(vm, ctx.zone)),
        )
      : 'no VMs yet: banger vm create NAME',
  );
}

export async function show(ctx: CliContext, name: string, o: Json): Promise<void> {
  const vm = await (await ctx.engine()).getVm(name);
  if (o.json) printJson(ctx, vm);
  else ctx.out(vmDetail(vm, ctx.zone));
}

export async function startOrRestart(ctx: CliContext, verb: 'start' | 'restart', name: string, o: Json): Promise<void> {
  const e = await ctx.engine();
  const vm = verb === 'start' ? await e.startVm(name) : await e.restartVm(name);
  if (o.json) printJson(ctx, vm);
  else {
    ctx.out(`${vm.name} is ${vm.state}${vm.ip ? ` at ${vm.ip} (${vm.name}.${ctx.zone})` : ''}`);
    // A suspended VM that could not resume says why it booted cold.
    if (vm.state === 'running' && vm.lastError) ctx.out(`note: ${vm.lastError}`);
  }
}

export async function clone(ctx: CliContext, source: string, name: string, o: Json): Promise<void> {
  const vm = await (await ctx.engine()).cloneVm(source, name);
  if (o.json) printJson(ctx, vm);
  else ctx.out(`${vm.name} created as a copy of ${source.toLowerCase()} (banger vm start ${vm.name})`);
}

export async function stop(
  ctx: CliContext,
  name: string,
  o: Json & { force?: boolean; timeout?: number; save?: boolean },
): Promise<void> {
  const t = o.timeout;
  if (o.save && o.force) throw new BangerError(ErrorCodes.USAGE, '--save and --force cannot be used together');
  const vm = await (
    await ctx.engine()
  ).stopVm(name, {
    force: !!o.force,
    timeoutMs: t === undefined ? undefined : t * 1000,
    ...(o.save ? { save: true } : {}),
  });
  if (o.json) printJson(ctx, vm);
  else if (vm.suspended)
    ctx.out(
      `${vm.name} is suspended (${formatBytes(vm.suspended.sizeBytes)} saved): banger vm start ${vm.name} resumes it`,
    );
  else
    ctx.out(
      `${vm.name} is ${vm.state}${vm.exitCode !== null ? ` (exit ${vm.exitCode})` : vm.exitSignal ? ` (${vm.exitSignal})` : ''}`,
    );
}

export async function rm(ctx: CliContext, name: string, o: { force?: boolean }): Promise<void> {
  await (await ctx.engine()).removeVm(name, { force: !!o.force });
  ctx.out(`deleted ${foldVmName(name)}`);
}

export async function ssh(ctx: CliContext, name: string, remote: string[]): Promise<number> {
  if (!ctx.paths) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'vm ssh needs the local banger paths');
  return ctx.interactive([...(await clientSshArgv(await ctx.engine(), ctx.paths, name)), ...remote]);
}

export async function consoleVerb(ctx: CliContext, name: string): Promise<number> {
  return attachConsole(ctx, await ctx.engine(), name);
}

export async function logs(ctx: CliContext, name: string, o: { follow?: boolean; bytes?: number }): Promise<void> {
  const e = await ctx.engine();
  process.stdout.write(await e.consoleTail(name, o.bytes ?? 64 * 1024));
  if (!o.follow) return;
  await e.subscribeConsole(name, (b) => process.stdout.write(b));
  await new Promise<void>((resolve) => {
    const off = e.subscribe((ev) => {
      if (ev.type === 'vm' && ev.vm.name === foldVmName(name) && !isLive(ev.vm.state)) {
        off();
        resolve();
      }
    });
    process.once('SIGINT', () => {
      off();
      resolve();
    });
  });
}
