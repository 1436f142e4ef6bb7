// banger image shell IMAGE [--save-as NEW]: boot a throwaway VM from the image, hand the
// terminal to a shell in it (ssh, else the serial console), then discard the VM or save its
// disk as a new image. Shared by the CLI verb and the TUI's Images screen.
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import type { EngineApi, ImageRecord } from '../contract/api.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { sleep } from '../base/time.js';

export interface ImageShellOptions {
  image: string;
  saveAs?: string;
  kernel?: string;
  backend?: string;
  memoryMib?: number;
  /** Run this over ssh instead of an interactive shell (scripts, tests). */
  command?: string[];
  /** How long the guest's sshd may take to answer. Default 120 s. */
  sshWaitMs?: number;
}

export interface ImageShellIo {
  /** The ssh argv for a VM, built by the front end (app/cli/ssh.ts). */
  sshArgv(vm: string): Promise<string[]>;
  /** Run a program on the terminal (ssh); resolves with its exit code. */
  interactive(argv: string[]): Promise<number>;
  /** Attach to the serial console until the user leaves; null when there is no terminal for it. */
  console: ((vm: string) => Promise<number>) | null;
  log(line: string): void;
}

function portOpen(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: ip, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitSsh(ip: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await portOpen(ip, 22, 1000)) return true;
    await sleep(250);
  }
  return false;
}

async function session(engine: EngineApi, vm: string, ip: string | null, o: ImageShellOptions, io: ImageShellIo) {
  if (ip && (await waitSsh(ip, o.sshWaitMs ?? 120_000))) {
    return io.interactive([...(await io.sshArgv(vm)), ...(o.command ?? [])]);
  }
  if (o.command?.length || !io.console)
    throw new BangerError(
      ErrorCodes.TIMEOUT,
      `the guest's sshd did not answer${ip ? ` on ${ip}:22` : ' (no network)'}`,
    );
  io.log('[no ssh in this guest: the serial console instead]');
  return io.console(vm);
}

export async function imageShell(
  engine: EngineApi,
  o: ImageShellOptions,
  io: ImageShellIo,
): Promise<{ code: number; saved: ImageRecord | null }> {
  if (o.saveAs !== undefined && (await engine.listImages()).some((i) => i.name === o.saveAs))
    throw new BangerError(ErrorCodes.NAME_TAKEN, `an image named "${o.saveAs}" already exists`);
  const name = `shell-${randomBytes(3).toString('hex')}`;
  io.log(`[booting ${name} from image ${o.image}]`);
  const vm = await engine.createVm({
    name,
    image: o.image,
    kernel: o.kernel,
    backend: o.backend,
    memoryMib: o.memoryMib,
    start: true,
  });
  let saved: ImageRecord | null = null;
  try {
    const code = await session(engine, name, vm.ip, o, io);
    // A clean shutdown flushes the guest's page cache to the disk before it is kept.
    await engine.stopVm(name);
    if (o.saveAs !== undefined) {
      io.log(`[saving the disk as image ${o.saveAs}]`);
      saved = await engine.imageFromVm({ vm: name, name: o.saveAs });
    }
    return { code, saved };
  } finally {
    await engine.removeVm(name, { force: true }).catch((err) => io.log(`[could not delete ${name}: ${String(err)}]`));
    io.log(saved ? `[saved image ${saved.name}; ${name} deleted]` : `[discarded ${name}]`);
  }
}
