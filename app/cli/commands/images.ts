// banger image ... and banger kernel ...
import { resolve } from 'node:path';
import type { BuildProgress, EngineApi } from '../../engine/api.js';
import type { CliContext, Command } from '../context.js';
import { JSON_FLAG, printJson } from '../context.js';
import { flagBool, flagStr, needPositional } from '../args.js';
import { table } from '../table.js';
import { formatBytes } from '../../base/human.js';

/** Follow a build's progress events with a one-line bar on a TTY (plain lines otherwise). */
async function withProgress<T>(
  ctx: CliContext,
  e: EngineApi,
  name: string,
  kind: BuildProgress['kind'],
  json: boolean,
  run: () => Promise<T>,
): Promise<T> {
  let last = '';
  const off = e.subscribe((ev) => {
    if (json || ev.type !== 'build' || ev.build.name !== name || ev.build.kind !== kind) return;
    const b = ev.build;
    const width = 30;
    const fill = Math.round((Math.max(0, Math.min(100, b.percent)) / 100) * width);
    const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.round(b.percent)).padStart(3)}% ${b.phase}`;
    if (line === last) return;
    last = line;
    if (ctx.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
    else ctx.err(line);
  });
  try {
    return await run();
  } finally {
    off();
    if (ctx.isTTY && last) process.stderr.write('\n');
  }
}

export const imageCommands: Command[] = [
  {
    path: ['image', 'build'],
    usage: 'banger image build NAME --from busybox|debian:bookworm [--size SIZE] [--packages a,b] [--json]',
    summary: 'build an ext4 root filesystem image',
    flags: { ...JSON_FLAG, from: { value: true }, size: { value: true }, packages: { value: true } },
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      const e = await ctx.engine();
      const packages = flagStr(a, 'packages')
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const img = await withProgress(ctx, e, name, 'image', flagBool(a, 'json'), () =>
        e.buildImage({ name, from: flagStr(a, 'from') ?? '', size: flagStr(a, 'size'), packages }),
      );
      if (flagBool(a, 'json')) printJson(ctx, img);
      else ctx.out(`built image ${img.name} (${formatBytes(img.sizeBytes)}, sha256 ${img.sha256.slice(0, 12)})`);
    },
  },
  {
    path: ['image', 'import'],
    usage: 'banger image import NAME PATH [--size SIZE] [--json]   (PATH: ext4 file, directory or rootfs tarball)',
    summary: 'import an image from an ext4 file, a directory or a tarball',
    flags: { ...JSON_FLAG, size: { value: true } },
    async run(ctx, a) {
      const [name, path] = needPositional(a, 2, this.usage);
      const e = await ctx.engine();
      const img = await withProgress(ctx, e, name, 'image', flagBool(a, 'json'), () =>
        e.importImage({ name, path: resolve(path), size: flagStr(a, 'size') }),
      );
      if (flagBool(a, 'json')) printJson(ctx, img);
      else ctx.out(`imported image ${img.name} (${formatBytes(img.sizeBytes)})`);
    },
  },
  {
    path: ['image', 'ls'],
    usage: 'banger image ls [--json]',
    summary: 'list images',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const imgs = await (await ctx.engine()).listImages();
      if (flagBool(a, 'json')) return printJson(ctx, imgs);
      ctx.out(
        imgs.length
          ? table(
              ['NAME', 'SOURCE', 'SIZE', 'SHA256', 'CREATED'],
              imgs.map((i) => [i.name, i.source, formatBytes(i.sizeBytes), i.sha256.slice(0, 12), i.createdAt]),
            )
          : 'no images yet: banger image build NAME --from busybox',
      );
    },
  },
  {
    path: ['image', 'rm'],
    usage: 'banger image rm NAME',
    summary: 'delete an image (refused while a VM uses it)',
    flags: {},
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      await (await ctx.engine()).removeImage(name);
      ctx.out(`deleted image ${name}`);
    },
  },
  {
    path: ['kernel', 'add'],
    usage: 'banger kernel add NAME PATH [--initrd P] [--json]',
    summary: 'register a kernel (an ELF vmlinux)',
    flags: { ...JSON_FLAG, initrd: { value: true } },
    async run(ctx, a) {
      const [name, path] = needPositional(a, 2, this.usage);
      // Resolved here: the engine's working directory is not ours.
      const initrd = flagStr(a, 'initrd');
      const k = await (await ctx.engine()).addKernel({ name, path: resolve(path), initrd: initrd && resolve(initrd) });
      if (flagBool(a, 'json')) printJson(ctx, k);
      else ctx.out(`added kernel ${k.name}`);
    },
  },
  ...(['fetch', 'build'] as const).map((verb): Command => ({
    path: ['kernel', verb],
    usage: `banger kernel ${verb} NAME [--json]`,
    summary:
      verb === 'fetch'
        ? 'Debian cloud kernel + initramfs (QEMU; not Firecracker)'
        : 'build a microVM vmlinux from Debian linux-source (~9 min on 2 cores)',
    flags: JSON_FLAG,
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      const e = await ctx.engine();
      const k = await withProgress(ctx, e, name, 'kernel', flagBool(a, 'json'), () =>
        verb === 'fetch' ? e.fetchKernel(name) : e.buildKernel(name),
      );
      if (flagBool(a, 'json')) printJson(ctx, k);
      else ctx.out(`kernel ${k.name} ready${k.version ? ` (${k.version})` : ''}`);
    },
  })),
  {
    path: ['kernel', 'ls'],
    usage: 'banger kernel ls [--json]',
    summary: 'list kernels',
    flags: JSON_FLAG,
    async run(ctx, a) {
      needPositional(a, 0, this.usage);
      const ks = await (await ctx.engine()).listKernels();
      if (flagBool(a, 'json')) return printJson(ctx, ks);
      ctx.out(
        ks.length
          ? table(
              ['NAME', 'SOURCE', 'VERSION', 'INITRD', 'PATH'],
              ks.map((k) => [k.name, k.source, k.version ?? '-', k.initrdPath ? 'yes' : 'no', k.path]),
            )
          : 'no kernels yet: banger kernel fetch default',
      );
    },
  },
  {
    path: ['kernel', 'rm'],
    usage: 'banger kernel rm NAME',
    summary: 'delete a kernel (refused while a VM uses it)',
    flags: {},
    async run(ctx, a) {
      const [name] = needPositional(a, 1, this.usage);
      await (await ctx.engine()).removeKernel(name);
      ctx.out(`deleted kernel ${name}`);
    },
  },
];
