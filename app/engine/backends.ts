// Both backends, built one way for the engine (wiring.ts) and for `banger doctor` without an
// engine: the same binaries, KVM path, sudo decision and remembered probes (base/probe.ts).
import type { Backend } from '../contract/api.js';
import type { Config } from './config.js';
import type { VmDriver } from './driver/contract.js';
import type { ProcessRunner } from '../base/process.js';
import type { Logger } from '../base/log.js';
import { probeCacheFile, type Paths } from '../base/paths.js';
import { cachedProbe } from '../base/probe.js';
import { FirecrackerDriver } from './firecracker/driver.js';
import { firecrackerViaSudo } from './firecracker/privilege.js';
import { jailInputsFor } from './firecracker/jail-mode.js';
import { QemuDriver } from './qemu/driver.js';
import { readAccelInputs } from './qemu/accel.js';

/** Both backends; their KVM checks look where config.kvmPath points. */
export function createDrivers(
  config: Config,
  runner: ProcessRunner,
  logger: Logger | undefined,
  paths: Pick<Paths, 'cacheDir' | 'stateDir'>,
): Map<Backend, VmDriver> {
  const kvmPath = config.kvmPath;
  const probe = cachedProbe(runner, probeCacheFile(paths));
  return new Map<Backend, VmDriver>([
    [
      'firecracker',
      new FirecrackerDriver({
        runner,
        bin: config.firecrackerBin,
        kvmPath,
        logger,
        privileged: firecrackerViaSudo(config.firecrackerSudo, runner.isRoot, kvmPath),
        probe,
        jail: jailInputsFor(config, runner.isRoot, paths.stateDir),
      }),
    ],
    [
      'qemu',
      new QemuDriver({
        runner,
        bin: config.qemuBin,
        accel: config.qemuAccel,
        accelInputs: () => readAccelInputs(kvmPath),
        logger,
        probe,
      }),
    ],
  ]);
}
