// Shared setup for the Firecracker driver tests: a VM spec in a temp dir, the simulator as the
// binary, and a step runner shaped like the engine's (unwind on failure, name the step).
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VmRecord } from '../../../app/contract/api.js';
import type { LaunchSpec, VmDriver, VmmHandle } from '../../../app/engine/driver/contract.js';
import { UndoStack } from '../../../app/engine/driver/undo.js';
import { BangerError, ErrorCodes } from '../../../app/base/errors.js';
import { guestFiles, SIM, tempDir } from '../../fixtures/firecracker-sim-harness.js';
import { vmRecord as buildVm } from '../../helpers/builders.js';

export { SIM, tempDir };

export function vmRecord(id: string, over: Partial<VmRecord> = {}): VmRecord {
  return buildVm({
    id,
    kernel: 'k',
    vcpus: 2,
    diskBytes: 1024,
    ip: '172.30.0.5',
    state: 'starting',
    tap: 'bgr-tap5',
    ...over,
  });
}

export function makeSpec(
  over: Partial<LaunchSpec> = {},
  id = `vm${Math.random().toString(36).slice(2, 8)}`,
): LaunchSpec {
  const dir = tempDir('fcdrv-');
  const { kernel, rootfs } = guestFiles(dir);
  const vm = vmRecord(id, { socketPath: join(dir, 'fc.sock') });
  return {
    vm,
    dir,
    kernelPath: kernel,
    initrdPath: null,
    rootfsPath: rootfs,
    bootArgs: 'console=ttyS0 reboot=k panic=1 pci=off ip=172.30.0.5::172.30.0.1:255.255.255.0:dev:eth0:off',
    tap: 'bgr-tap5',
    mac: vm.mac,
    consoleLog: join(dir, 'console.log'),
    consoleFifo: join(dir, 'console.in'),
    socketPath: join(dir, 'fc.sock'),
    vmmLog: join(dir, 'firecracker.log'),
    metricsPath: join(dir, 'metrics.json'),
    ...over,
  };
}

/** Run the boot steps the way the engine does; on failure unwind and name the step. */
export async function boot(
  driver: VmDriver,
  spec: LaunchSpec,
  undo = new UndoStack(),
): Promise<{ handle: VmmHandle; undo: UndoStack }> {
  const handle: { current: VmmHandle | null } = { current: null };
  let current = '';
  try {
    for (const step of driver.bootSteps(spec, undo, handle)) {
      current = step.name;
      await step.run();
    }
  } catch (err) {
    await undo.unwind();
    throw new BangerError(ErrorCodes.BOOT_FAILED, `boot step "${current}" failed: ${(err as Error).message}`, {
      cause: err,
      details: { step: current, handle: handle.current },
    });
  }
  return { handle: handle.current!, undo };
}

/** Set SIM_* variables for the next spawn(s); returns a restore function. */
export function simEnv(vars: Record<string, string>): () => void {
  const old: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    old[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * A stand-in for sudo: records its arguments, drops `-n --`, and runs the command as its CHILD
 * (as real sudo does), relaying SIGTERM and passing the exit status on.
 */
export function fakeSudo(): { dir: string; log: string; restorePath: () => void } {
  const dir = tempDir('fakesudo-');
  const log = join(dir, 'sudo.log');
  const script = join(dir, 'sudo');
  writeFileSync(
    script,
    `#!/bin/bash
printf '%s\\n' "$*" >> '${log}'
[ "$1" = "-n" ] && shift
[ "$1" = "--" ] && shift
"$@" <&0 &
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
wait $child; rc=$?
while kill -0 $child 2>/dev/null; do wait $child; rc=$?; done
exit $rc
`,
  );
  chmodSync(script, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  return {
    dir,
    log,
    restorePath: () => {
      process.env.PATH = oldPath;
    },
  };
}

/** The program's own answer: a zombie not yet reaped by its parent counts as gone. */
export { pidAlive } from '../../../app/base/pid.js';

export function leftovers(spec: LaunchSpec): string[] {
  return [spec.socketPath, spec.consoleFifo].filter((p) => existsSync(p));
}
