// banger doctor without an engine: the same checks the engine runs, from this process, with the
// settings an engine would read. Checking the host must not start anything on it.
import type { Backend, DoctorCheck, DoctorReport } from '../contract/api.js';
import { assertTrustedDirs } from '../base/runtime-trust.js';
import { loadEngineSettings } from '../engine/network/policy-defaults.js';
import { doctor } from '../engine/doctor.js';
import { createRunner } from '../base/process.js';
import { createDrivers } from '../engine/backends.js';
import type { Paths } from '../base/paths.js';

export async function hostDoctor(
  paths: Paths,
  env: Record<string, string | undefined> = process.env,
): Promise<DoctorReport> {
  const config = loadEngineSettings(paths, env).config;
  const runner = createRunner();
  const drivers = createDrivers(config, runner, undefined, paths);
  // The engine's rule (Engine.defaultBackend): firecracker when usable, else qemu.
  const defaultBackend = async (firecrackerOk: boolean): Promise<Backend> =>
    config.defaultBackend !== 'auto' ? config.defaultBackend : firecrackerOk ? 'firecracker' : 'qemu';
  const report = await doctor({ drivers, runner, config, defaultBackend });
  report.checks.push(runtimeDirCheck(paths));
  return report;
}

/** The control socket's directory chain (runtime-trust.ts), as a check instead of an error. */
function runtimeDirCheck(paths: Paths): DoctorCheck {
  try {
    assertTrustedDirs(paths.runtimeRoot ?? paths.runtimeDir, paths.runtimeDir, { allowMissing: true });
    return { name: 'runtime dir', ok: true, detail: `${paths.runtimeDir} (owner-only, or not created yet)` };
  } catch (err) {
    return { name: 'runtime dir', ok: false, detail: (err as Error).message };
  }
}
