// What `banger vm create --help` says a VM gets when a flag is left out: the settings in
// config.json on this host (what an engine started on demand reads), read only when the help
// is shown. The engine applies the same rules (engine/vm/create.ts).
import type { Paths } from '../base/paths.js';
import { DEFAULT_CONFIG, loadConfig, type Config } from '../engine/config.js';

function settings(paths: Paths): { cfg: Config; note: string } {
  try {
    return { cfg: loadConfig(paths, {}), note: paths.configFile };
  } catch (err) {
    return { cfg: DEFAULT_CONFIG, note: `built-in: ${(err as Error).message}` };
  }
}

export function createDefaults(paths: Paths): string[] {
  const { cfg, note } = settings(paths);
  const pick = (v: string | null, what: string) =>
    v ? `${v}` : `"default", else the only ${what} (unset: ${what === 'image' ? 'defaultImage' : 'defaultKernel'})`;
  const rows: [string, string, keyof Config][] = [
    ['--image', pick(cfg.defaultImage, 'image'), 'defaultImage'],
    ['--kernel', pick(cfg.defaultKernel, 'kernel'), 'defaultKernel'],
    ['--vcpus', String(cfg.defaultVcpus), 'defaultVcpus'],
    ['--memory', `${cfg.defaultMemoryMib} MiB`, 'defaultMemoryMib'],
    ['--disk', cfg.defaultDisk, 'defaultDisk'],
    [
      '--backend',
      cfg.defaultBackend === 'auto' ? 'firecracker when its binary answers, else qemu' : cfg.defaultBackend,
      'defaultBackend',
    ],
    [
      '--stop-timeout',
      cfg.stopTimeoutMs === null ? "by the image's init: busybox 15 s, systemd 120 s" : `${cfg.stopTimeoutMs / 1000} s`,
      'stopTimeoutMs',
    ],
  ];
  const w = Math.max(...rows.map(([f]) => f.length)) + 3;
  return [
    `defaults in effect (${note}; docs/configuration.md):`,
    ...rows.map(([flag, value, key]) => `  ${flag.padEnd(w)}${value}${value.includes(key) ? '' : `   (${key})`}`),
  ];
}
