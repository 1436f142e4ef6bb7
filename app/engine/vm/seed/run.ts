// The seed section for `vm create --run`: the image's Entrypoint+Cmd, Env, WorkingDir and User,
// written under banger/run/ for the guest's boot hook (assets/guest/seed.d/40-run.sh), which
// starts them as a supervised service. Values come from an image's config, so they are data,
// never shell: one value per line, every byte outside a small safe set written as a \0ooo octal
// escape, which the guest decodes with printf %b into a variable (no eval, no word splitting).
import type { ImageConfig, ImageRecord } from '../../../contract/api.js';
import { BangerError, ErrorCodes } from '../../../base/errors.js';
import type { SeedContext, SeedFiles, SeedSection } from './sections.js';

/** What the guest runs: argv (Entrypoint then Cmd), the environment, and where and as whom. */
export interface RunSpec {
  argv: string[];
  env: string[];
  workingDir: string;
  user: string;
}

/** Docker's PATH when an image sets none (its Entrypoint is looked up in it). */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The run spec of an image, or E_NO_RUN_COMMAND when it has no config or nothing to run. */
export function runSpecOf(image: Pick<ImageRecord, 'name' | 'config'>): RunSpec {
  const c: ImageConfig | null | undefined = image.config;
  const argv = [...(c?.entrypoint ?? []), ...(c?.cmd ?? [])];
  if (!c || argv.length === 0) {
    throw new BangerError(
      ErrorCodes.NO_RUN_COMMAND,
      `image "${image.name}" has no ${c ? 'Entrypoint or Cmd' : 'OCI config'} to run: --run needs an image imported from an OCI image that declares one`,
    );
  }
  if (argv[0] === '') throw badValue(image.name, 'an empty program name');
  const env = (c.env ?? []).filter((e) => e.includes('=') && !e.startsWith('='));
  if (!env.some((e) => e.startsWith('PATH='))) env.push(DEFAULT_PATH);
  const user = c.user?.trim() || '';
  if (
    !env.some((e) => e.startsWith('HOME=')) &&
    (user === '' || user === 'root' || user.startsWith('0:') || user === '0')
  )
    env.push('HOME=/root');
  const spec = { argv, env, workingDir: c.workingDir?.trim() || '/', user };
  for (const v of [...spec.argv, ...spec.env, spec.workingDir, spec.user]) {
    if (v.includes('\0')) throw badValue(image.name, 'a NUL byte');
  }
  if (!spec.workingDir.startsWith('/')) throw badValue(image.name, `a relative WorkingDir "${spec.workingDir}"`);
  return spec;
}

function badValue(image: string, what: string): BangerError {
  return new BangerError(ErrorCodes.NO_RUN_COMMAND, `image "${image}" cannot be run: its config has ${what}`);
}

const SAFE = /^[A-Za-z0-9_./:=,+@-]$/;

/** One value as one line of printf-%b escapes: safe characters as they are, every other byte \0ooo. */
export function encodeValue(v: string): string {
  let out = '';
  for (const byte of Buffer.from(v, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE.test(ch) ? ch : `\\0${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** Inverse of encodeValue (what the guest's printf %b does), for tests and tools. */
export function decodeValue(line: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < line.length;) {
    const m = /^\\0([0-7]{3})/.exec(line.slice(i));
    if (m) {
      bytes.push(parseInt(m[1], 8));
      i += 5;
    } else bytes.push(line.charCodeAt(i++));
  }
  return Buffer.from(bytes).toString('utf8');
}

const lines = (vs: string[]) => vs.map(encodeValue).join('\n') + (vs.length ? '\n' : '');

/** The files of the section (banger/run/*, read by the guest's 40-run.sh). */
export function runSeedFiles(spec: RunSpec): SeedFiles {
  return {
    'banger/run/argv': lines(spec.argv),
    'banger/run/env': lines(spec.env),
    'banger/run/workdir': lines([spec.workingDir]),
    'banger/run/user': lines(spec.user ? [spec.user] : []),
  };
}

/** vm create --run: the image's program, read from its record at every boot. */
export const runSection: SeedSection = {
  name: 'run',
  files({ vm, image }: SeedContext): SeedFiles {
    if (!vm.run) return {};
    if (!image) throw new BangerError(ErrorCodes.NO_RUN_COMMAND, `VM "${vm.name}" has --run but no image`);
    return runSeedFiles(runSpecOf(image));
  },
};
