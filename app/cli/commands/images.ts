// banger image ... and banger kernel ...
import { resolve } from 'node:path';
import type { BuildProgress, EngineApi } from '../../contract/api.js';
import type { CliContext } from '../context.js';
import { printJson } from '../context.js';
import { table } from '../table.js';
import { formatBytes } from '../../base/human.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { formatImageRef, isTransportRef, parseImageRef } from '../../contract/image-ref.js';

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
  let buildId: string | null = null;
  // Ctrl-C cancels the build (which then leaves nothing) rather than leaving it running.
  const onInt = () => {
    if (buildId) void e.cancelBuild(buildId).catch(() => undefined);
    else process.exit(130);
  };
  process.on('SIGINT', onInt);
  const off = e.subscribe((ev) => {
    if (ev.type !== 'build' || ev.build.name !== name || ev.build.kind !== kind) return;
    if (ev.build.state === 'running') buildId = ev.build.id;
    if (json) return;
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
    process.off('SIGINT', onInt);
    if (ctx.isTTY && last) process.stderr.write('\n');
  }
}

interface Json {
  json?: boolean;
}

export async function imageBuild(
  ctx: CliContext,
  name: string,
  o: Json & { from?: string; size?: string; packages?: string },
): Promise<void> {
  const e = await ctx.engine();
  const packages = o.packages
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const img = await withProgress(ctx, e, name, 'image', !!o.json, () =>
    e.buildImage({ name, from: o.from ?? '', size: o.size, packages }),
  );
  if (o.json) printJson(ctx, img);
  else ctx.out(`built image ${img.name} (${formatBytes(img.sizeBytes)}, sha256 ${img.sha256.slice(0, 12)})`);
}

export async function imageImport(
  ctx: CliContext,
  name: string,
  ref: string,
  o: Json & { size?: string; platform?: string; tlsVerify?: string },
) {
  const e = await ctx.engine();
  const img = await withProgress(ctx, e, name, 'image', !!o.json, () =>
    e.importImage({
      name,
      // Local paths resolved here: the engine's working directory is not ours.
      path: isTransportRef(ref) ? formatImageRef(parseImageRef(ref), (p) => resolve(p)) : resolve(ref),
      size: o.size,
      ...(o.platform !== undefined ? { platform: o.platform } : {}),
      ...(o.tlsVerify !== undefined ? { tlsVerify: parseBool('--tls-verify', o.tlsVerify) } : {}),
    }),
  );
  if (o.json) printJson(ctx, img);
  else ctx.out(`imported image ${img.name} (${formatBytes(img.sizeBytes)})`);
}

function parseBool(flag: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new BangerError(ErrorCodes.USAGE, `${flag} takes true or false, got "${v}"`);
}

export async function imageLs(ctx: CliContext, o: Json): Promise<void> {
  const imgs = await (await ctx.engine()).listImages();
  if (o.json) return printJson(ctx, imgs);
  ctx.out(
    imgs.length
      ? table(
          ['NAME', 'SOURCE', 'SIZE', 'SHA256', 'CREATED'],
          imgs.map((i) => [i.name, i.source, formatBytes(i.sizeBytes), i.sha256.slice(0, 12), i.createdAt]),
        )
      : 'no images yet: banger image build NAME --from busybox',
  );
}

export async function imageRm(ctx: CliContext, name: string): Promise<void> {
  await (await ctx.engine()).removeImage(name);
  ctx.out(`deleted image ${name}`);
}

export async function kernelAdd(ctx: CliContext, name: string, path: string, o: Json & { initrd?: string }) {
  // Resolved here: the engine's working directory is not ours.
  const k = await (await ctx.engine()).addKernel({ name, path: resolve(path), initrd: o.initrd && resolve(o.initrd) });
  if (o.json) printJson(ctx, k);
  else ctx.out(`added kernel ${k.name}`);
}

export async function kernelFetchOrBuild(ctx: CliContext, verb: 'fetch' | 'build', name: string, o: Json) {
  const e = await ctx.engine();
  const k = await withProgress(ctx, e, name, 'kernel', !!o.json, () =>
    verb === 'fetch' ? e.fetchKernel(name) : e.buildKernel(name),
  );
  if (o.json) printJson(ctx, k);
  else ctx.out(`kernel ${k.name} ready${k.version ? ` (${k.version})` : ''}`);
}

export async function kernelLs(ctx: CliContext, o: Json): Promise<void> {
  const ks = await (await ctx.engine()).listKernels();
  if (o.json) return printJson(ctx, ks);
  ctx.out(
    ks.length
      ? table(
          ['NAME', 'SOURCE', 'VERSION', 'INITRD', 'PATH'],
          ks.map((k) => [k.name, k.source, k.version ?? '-', k.initrdPath ? 'yes' : 'no', k.path]),
        )
      : 'no kernels yet: banger kernel fetch default',
  );
}

export async function kernelRm(ctx: CliContext, name: string): Promise<void> {
  await (await ctx.engine()).removeKernel(name);
  ctx.out(`deleted kernel ${name}`);
}
