// banger doctor without an engine: the same checks the engine runs, from this process, with the
// settings an engine would read. Checking the host must not start anything on it.
import type { Backend, DoctorReport } from '../engine/api.js';
import { loadConfig } from '../engine/config.js';
import { doctor } from '../engine/doctor.js';
import { createRunner } from '../engine/process.js';
import { FirecrackerDriver } from '../engine/firecracker/driver.js';
import { QemuDriver } from '../engine/qemu/driver.js';
import type { VmDriver } from '../engine/vm/driver.js';
import type { Paths } from '../paths.js';

export async function hostDoctor(
  paths: Paths,
  env: Record<string, string | undefined> = process.env,
): Promise<DoctorReport> {
  const config = loadConfig(paths, env);
  const runner = createRunner();
  const drivers = new Map<Backend, VmDriver>([
    ['firecracker', new FirecrackerDriver({ runner, bin: config.firecrackerBin })],
    ['qemu', new QemuDriver({ runner, bin: config.qemuBin, accel: config.qemuAccel })],
  ]);
  // The engine's rule (Engine.defaultBackend): firecracker when usable, else qemu.
  const defaultBackend = async (): Promise<Backend> => {
    if (config.defaultBackend !== 'auto') return config.defaultBackend;
    return (await drivers.get('firecracker')!.available()).ok ? 'firecracker' : 'qemu';
  };
  return doctor({ drivers, runner, config, defaultBackend });
}
