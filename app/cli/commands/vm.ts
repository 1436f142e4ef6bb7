// banger vm ...: record and lifecycle verbs. Human tables by default, stable records with --json.
import type { Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, flagInt, flagStr, needPositional } from '../args.js';
import { VM_HEADERS, table, vmDetail, vmRow } from '../table.js';
import { attachConsole } from '../console.js';
import { clientSshArgv } from '../ssh.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

const NAME = (usage: string) => (a: { positional: string[] }) => needPositional(a as never, 1, usage)[0];

export const vmCommands: Command[] = [
  {
    path: ['vm', 'create'],
    usage:
      'banger vm create NAME [--image I] [--kernel K] [--vcpus N] [--memory MiB] [--disk SIZE] [--backend B] [--boot-args ARGS] [--stop-timeout SECONDS] [--start] [--json]',
    summary: 'create a VM (and start it with --start)',
    flags: {
      ...JSON_FLAG,
      image: { value: true },
      kernel: { value: true },
      vcpus: { value: true },
      memory: { value: true },
      disk: { value: true },
      backend: { value: true },
      'boot-args': { value: true },
      'stop-timeout': { value: true },
      start: {},
    },
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      const stopTimeout = flagInt(a, 'stop-timeout');
      const vm = await (
        await ctx.engine()
      ).createVm({
        name,
        image: flagStr(a, 'image'),
        kernel: flagStr(a, 'kernel'),
        vcpus: flagInt(a, 'vcpus'),
        memoryMib: flagInt(a, 'memory'),
        disk: flagStr(a, 'disk'),
        backend: flagStr(a, 'backend'),
        bootArgs: flagStr(a, 'boot-args'),
        stopTimeoutMs: stopTimeout === undefined ? undefined : stopTimeout * 1000,
        start: flagBool(a, 'start'),
      });
      if (flagBool(a, 'json')) printJson(ctx, vm);
      else
        ctx.out(
          `${vm.state === 'running' ? 'started' : 'created'} ${vm.name} (${vm.backend}, ${vm.vcpus} vCPU, ${vm.memoryMib} MiB)`,
        );
    },
  },
  {
    path: ['vm', 'ls'],
    usage: 'banger vm ls [--json]',
    summary: 'list VMs',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const vms = await (await ctx.engine()).listVms();
      if (flagBool(a, 'json')) return printJson(ctx, vms);
      ctx.out(
        vms.length
          ? table(
              VM_HEADERS,
              vms.map((vm) => vmRow(vm, ctx.zone)),
            )
          : 'no VMs yet: banger vm create NAME',
      );
    },
  },
  {
    path: ['vm', 'show'],
    usage: 'banger vm show NAME [--json]',
    summary: 'show one VM',
    flags: JSON_FLAG,
    async run(ctx, a) {
      const vm = await (await ctx.engine()).getVm(NAME(this.usage)(a));
      if (flagBool(a, 'json')) printJson(ctx, vm);
      else ctx.out(vmDetail(vm, ctx.zone));
    },
  },
  ...(['start', 'restart'] as const).map((verb): Command => ({
    path: ['vm', verb],
    usage: `banger vm ${verb} NAME [--json]`,
    summary: `${verb} a VM`,
    flags: JSON_FLAG,
    async run(ctx, a) {
      const name = NAME(this.usage)(a);
      const e = await ctx.engine();
      const vm = verb === 'start' ? await e.startVm(name) : await e.restartVm(name);
      if (flagBool(a, 'json')) printJson(ctx, vm);
      else ctx.out(`${vm.name} is ${vm.state}${vm.ip ? ` at ${vm.ip} (${vm.name}.${ctx.zone})` : ''}`);
    },
  })),
  {
    path: ['vm', 'stop'],
    usage: 'banger vm stop NAME [--force] [--timeout SECONDS] [--json]',
    summary: 'stop a VM: Ctrl-Alt-Del, then SIGTERM, then SIGKILL (--force: SIGKILL now)',
    flags: { ...JSON_FLAG, force: { short: 'f' }, timeout: { value: true } },
    async run(ctx, a) {
      const name = NAME(this.usage)(a);
      const t = flagInt(a, 'timeout');
      const vm = await (
        await ctx.engine()
      ).stopVm(name, { force: flagBool(a, 'force'), timeoutMs: t === undefined ? undefined : t * 1000 });
      if (flagBool(a, 'json')) printJson(ctx, vm);
      else
        ctx.out(
          `${vm.name} is ${vm.state}${vm.exitCode !== null ? ` (exit ${vm.exitCode})` : vm.exitSignal ? ` (${vm.exitSignal})` : ''}`,
        );
    },
  },
  {
    path: ['vm', 'rm'],
    usage: 'banger vm rm NAME [--force]',
    summary: 'delete a VM, its disk and its lease (--force stops it first)',
    flags: { force: { short: 'f' } },
    async run(ctx, a) {
      const name = NAME(this.usage)(a);
      await (await ctx.engine()).removeVm(name, { force: flagBool(a, 'force') });
      ctx.out(`deleted ${name.toLowerCase()}`);
    },
  },
  {
    path: ['vm', 'ssh'],
    usage: 'banger vm ssh NAME [-- CMD...]',
    summary: "ssh into a VM as root with banger's key",
    flags: {},
    async run(ctx, a) {
      const name = NAME(this.usage)(a);
      if (!ctx.paths) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'vm ssh needs the local banger paths');
      return ctx.interactive([...(await clientSshArgv(await ctx.engine(), ctx.paths, name)), ...a.rest]);
    },
  },
  {
    path: ['vm', 'console'],
    usage: 'banger vm console NAME',
    summary: 'attach to the serial console (Ctrl-] leaves)',
    flags: {},
    async run(ctx, a) {
      return attachConsole(ctx, await ctx.engine(), NAME(this.usage)(a));
    },
  },
  {
    path: ['vm', 'logs'],
    usage: 'banger vm logs NAME [--follow] [--bytes N]',
    summary: 'print the console log (--follow keeps printing)',
    flags: { follow: { short: 'f' }, bytes: { value: true } },
    async run(ctx, a) {
      const name = NAME(this.usage)(a);
      const e = await ctx.engine();
      process.stdout.write(await e.consoleTail(name, flagInt(a, 'bytes') ?? 64 * 1024));
      if (!flagBool(a, 'follow')) return;
      await e.subscribeConsole(name, (b) => process.stdout.write(b));
      await new Promise<void>((resolve) => {
        const off = e.subscribe((ev) => {
          if (ev.type === 'vm' && ev.vm.name === name.toLowerCase() && !['running', 'paused'].includes(ev.vm.state)) {
            off();
            resolve();
          }
        });
        process.once('SIGINT', () => {
          off();
          resolve();
        });
      });
    },
  },
];
