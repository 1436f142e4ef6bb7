// One boot: the engine's own steps (validate, dirs, network, console), then the driver's, with
// an undo stack. The VMM's pid, start time and socket are stored the moment it exists, so an
// engine that dies mid-boot leaves a record the next one can adopt from, or kill and verify.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { KernelRecord, VmRecord } from '../../contract/api.js';
import type { BootStep, ExtraDrive, LaunchSpec, SnapshotFiles, VmDriver, VmmHandle } from '../driver/contract.js';
import type { LifecycleDeps } from './lifecycle.js';
import { UndoStack } from '../driver/undo.js';
import { sameProcessAlive, startTimeOf } from '../driver/vmm-process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { vmPaths } from '../../base/paths.js';
import { sleep } from '../../base/time.js';

export const DEFAULT_BOOT_ARGS = 'console=ttyS0 reboot=k panic=1 pci=off';

export function bootArgsFor(vm: VmRecord, ipArg: string | null): string {
  return [DEFAULT_BOOT_ARGS, ipArg ?? '', vm.bootArgs].filter(Boolean).join(' ');
}

export function socketPathFor(paths: { runtimeDir: string; vmsDir: string }, vm: VmRecord): string {
  return vmPaths(paths, vm.id).vmmSocket(vm.backend);
}

export interface BootResult {
  vm: VmRecord;
  handle: VmmHandle;
  tap: string | null;
  consolePaths: { log: string; fifo: string };
}

/** Thrown when a boot failed; `vmmAlive` says the undo could not kill the VMM it had launched. */
export class BootFailure extends Error {
  constructor(
    readonly step: string,
    readonly reason: unknown,
    readonly vmmAlive: { pid: number; startTime: number | null } | null,
  ) {
    super(`boot step "${step}" failed: ${(reason as Error)?.message ?? String(reason)}`);
  }
}

// eslint-disable-next-line max-lines-per-function -- the boot's shared state lives in this closure
export async function runBoot(
  d: LifecycleDeps,
  initial: VmRecord,
  driver: VmDriver,
  kernel: KernelRecord,
  /** A snapshot to restore instead of booting (the driver's restoreSteps). */
  restoreFrom?: SnapshotFiles,
): Promise<BootResult> {
  let vm = initial;
  const undo = new UndoStack();
  const handle: { current: VmmHandle | null } = { current: null };
  const files = vmPaths(d.paths, vm.id);
  const { dir, runtimeDir: rdir } = files;
  let ipArg: string | null = null;
  let tap: string | null = null;
  let consolePaths = { log: files.consoleLog, fifo: files.consoleFifo };
  const drives: ExtraDrive[] = [];
  const spec = (): LaunchSpec => ({
    vm,
    dir,
    kernelPath: kernel.path,
    initrdPath: kernel.initrdPath,
    rootfsPath: files.disk,
    bootArgs: bootArgsFor(vm, ipArg),
    tap,
    mac: vm.mac,
    consoleLog: consolePaths.log,
    consoleMaxBytes: d.config.consoleLogMaxBytes,
    consoleFifo: consolePaths.fifo,
    socketPath: socketPathFor(d.paths, vm),
    vmmLog: files.vmmLog,
    metricsPath: files.metrics,
    drives,
    ...(restoreFrom ? { restoreFrom } : {}),
  });
  const common: BootStep[] = [
    {
      name: 'validate',
      run: async () => {
        for (const [what, p] of [
          ['kernel', kernel.path],
          ['disk', files.disk],
          ['initrd', kernel.initrdPath],
        ] as const) {
          if (p && !existsSync(p)) throw new BangerError(ErrorCodes.NOT_FOUND, `${what} file is missing: ${p}`);
        }
      },
    },
    {
      name: 'create-dirs',
      run: async () => {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        mkdirSync(rdir, { recursive: true, mode: 0o700 });
        undo.push('remove runtime dir', () => rmSync(rdir, { recursive: true, force: true }));
      },
    },
    {
      // The per-VM config drive (app/engine/vm/seed/): the guest's second disk, read-only.
      name: 'seed',
      run: async () => {
        if (!d.seed) return;
        drives.push(await d.seed.prepare(vm, { restore: restoreFrom !== undefined }, undo));
      },
    },
    {
      name: 'network',
      run: async () => {
        if (!d.network) return;
        const tapUid = driver.vmmUid?.(vm.id) ?? undefined;
        const net = await d.network.setupVm({ id: vm.id, name: vm.name, tapUid }, undo);
        tap = net.tap;
        ipArg = net.ipArg;
        vm = d.store.updateVm(vm.id, { tap: net.tap });
      },
    },
    {
      name: 'console',
      run: async () => {
        if (!d.console) return;
        consolePaths = await d.console.prepare(vm.id, consolePaths);
        undo.push('remove console fifo', () => d.console!.cleanup(consolePaths.fifo));
      },
    },
  ];
  let stored: VmmHandle | null = null;
  let startTime: number | null = null;
  /** The VMM exists (or its real pid under sudo became known): store it before anything else. */
  const persist = () => {
    const h = handle.current;
    if (!h || (stored && stored.pid === h.pid)) return;
    startTime = startTimeOf(h.pid);
    vm = d.store.updateVm(vm.id, { pid: h.pid, pidStartTime: startTime, socketPath: h.socketPath });
    stored = h;
  };
  let current = '';
  const took: Record<string, number> = {};
  try {
    for (const step of common) {
      current = step.name;
      const t = Date.now();
      await step.run();
      took[current] = Date.now() - t;
      await testHold(d, vm, `engine:${current}`);
    }
    // The driver's steps are built now, so they see the network and console results.
    const steps = restoreFrom ? driver.restoreSteps!(spec(), undo, handle) : driver.bootSteps(spec(), undo, handle);
    for (const step of steps) {
      current = step.name;
      const t = Date.now();
      try {
        await step.run();
      } finally {
        persist();
      }
      took[current] = Date.now() - t;
      await testHold(d, vm, `vmm:${current}`);
    }
  } catch (err) {
    await undo.unwind();
    const h = handle.current as VmmHandle | null;
    const alive = h && sameProcessAlive(h.pid, startTime) ? { pid: h.pid, startTime } : null;
    if (undo.failures.length)
      d.logger.warn(`vm ${vm.name}: boot undo failures`, { undoFailures: undo.failures.map((f) => f.name) });
    throw new BootFailure(current, err, alive);
  }
  undo.commit();
  // Where a start's time goes (a resume against a cold boot), per step, in the engine log.
  d.logger.info(`vm ${vm.name}: ${restoreFrom ? 'restore' : 'boot'} steps (ms)`, took);
  return { vm, handle: handle.current!, tap, consolePaths };
}

/**
 * Test hook for the crash-at-every-boot-step test: BANGER_TEST_BOOT_HOLD lists STEP or
 * VMNAME@STEP items (STEP is engine:NAME or vmm:NAME, comma-separated); a matching boot pauses
 * after that step (state stored) and logs it, so the test can kill -9 the engine right there.
 * Unset (always, outside tests) it costs one lookup.
 */
async function testHold(d: LifecycleDeps, vm: VmRecord, step: string): Promise<void> {
  const hold = process.env.BANGER_TEST_BOOT_HOLD;
  if (!hold || !hold.split(',').some((h) => h === step || h === `${vm.name}@${step}`)) return;
  d.logger.warn(`test hook: holding vm ${vm.name} after boot step "${step}"`);
  await sleep(60_000);
}
