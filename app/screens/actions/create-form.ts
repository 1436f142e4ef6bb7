// The create-VM form: its fields, and its strings turned into engine input with the contract's
// own validators and spec parsers (the engine uses the same), so the form and the engine cannot
// disagree. The user-data and ssh-key files are read here, on the client, as the CLI does.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { VmCreateInput } from '../../contract/api.js';
import { BangerError, ErrorCodes, type ErrorCode } from '../../base/errors.js';
import { validateDisk, validateMemory, validateName, validateVcpus } from '../../contract/vm-spec.js';
import {
  absoluteMountSpec,
  ignoredWarning,
  parsePortSpecs,
  parseUserData,
  planMounts,
  SSH_KEY_MAX_BYTES,
  USER_DATA_MAX_BYTES,
  validateSshKeys,
  type HostDirCheck,
} from './spec-parsers.js';
import type { FormField, FormValues } from '../widgets/form.js';

/** The form's fields; `backends` are the available ones (shared folders need qemu). */
export function createFields(images: string[], kernels: string[], backends: string[] = []): FormField[] {
  const choice = (names: string[]) => ({
    value: names[0] ?? '(default)',
    options: names.length ? names : ['(default)'],
  });
  return [
    { key: 'name', label: 'Name', kind: 'text', value: '', hint: 'a-z, 0-9 and -; reachable as NAME.vm' },
    { key: 'image', label: 'Image', kind: 'choice', ...choice(images) },
    { key: 'kernel', label: 'Kernel', kind: 'choice', ...choice(kernels) },
    { key: 'vcpus', label: 'vCPUs', kind: 'text', value: '1' },
    { key: 'memory', label: 'Memory MiB', kind: 'text', value: '256' },
    { key: 'disk', label: 'Disk', kind: 'text', value: '1G', hint: 'size like 512M or 4G' },
    {
      key: 'backend',
      label: 'Backend',
      kind: 'choice',
      value: '(default)',
      options: ['(default)', ...backends],
      hint: 'the engine picks by default; shared folders need qemu',
    },
    {
      key: 'mounts',
      label: 'Mounts',
      kind: 'text',
      value: '',
      hint: 'HOSTDIR[:GUESTDIR][:ro], comma-separated (qemu backend)',
    },
    {
      key: 'publish',
      label: 'Publish',
      kind: 'text',
      value: '',
      hint: '[ADDR:]HOSTPORT:GUESTPORT[/udp], comma-separated',
    },
    { key: 'userData', label: 'User-data file', kind: 'text', value: '', hint: 'a cloud-config or #! script' },
    { key: 'sshKey', label: 'SSH key file', kind: 'text', value: '', hint: 'public key files, comma-separated' },
    { key: 'run', label: 'Run', kind: 'choice', value: 'no', options: ['no', 'yes'], hint: "start the image's cmd" },
  ];
}

/** A form's failure: the message, and the field to put the cursor on. */
export interface FormError {
  error: string;
  field: string;
}

/** Where the form looks: the files it reads and the host directories it checks (tests: a table). */
export interface FormEnv {
  cwd: string;
  /** A regular file's text; its size is checked against max before it is read. */
  read(path: string, max: number, tooLarge: ErrorCode): string;
  check: HostDirCheck;
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

function readCapped(path: string, max: number, tooLarge: ErrorCode): string {
  const st = statSync(path);
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : '' });
  if (st.size > max) throw new BangerError(tooLarge, `it is ${st.size} bytes; at most ${max} are taken`);
  return readFileSync(path, 'utf8');
}

/** The engine's own host-directory check (planMounts), made here on the TUI's side of the socket. */
export const hostDirCheck: HostDirCheck = (p) => {
  try {
    return statSync(p).isDirectory() ? { kind: 'dir', realPath: realpathSync(p) } : { kind: 'not-dir' };
  } catch {
    return { kind: 'missing' };
  }
};

const realEnv = (): FormEnv => ({ cwd: process.cwd(), read: readCapped, check: hostDirCheck });

/** Comma-separated, blanks around each item trimmed, empty items dropped. */
function items(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** ~ as a shell would have expanded it before the CLI saw the word. */
function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') || p.startsWith('~:') ? homedir() + p.slice(1) : p;
}

/** A path as a shell would have given it: ~ is the home directory, relative is from cwd. */
export function expandPath(p: string, cwd = process.cwd()): string {
  return resolve(cwd, expandHome(p));
}

function readFile(what: string, path: string, max: number, tooLarge: ErrorCode, env: FormEnv): string {
  try {
    return env.read(expandPath(path, env.cwd), max, tooLarge);
  } catch (err) {
    if (err instanceof BangerError) throw new BangerError(err.code, `the ${what} file ${path}: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    const why = (code && READ_ERRORS[code]) || (err instanceof Error ? err.message : String(err));
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `cannot read the ${what} file: ${why}${code ? ` (${code})` : ''}: ${path}`,
    );
  }
}

/** Each step with the field its failure points at. */
function step<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BangerError) throw Object.assign(err, { field });
    throw err;
  }
}

/** Each key file's text, checked as the engine will (a private key is refused, named by its file). */
function sshKeyTexts(paths: string[], env: FormEnv): string[] {
  return paths.map((p) => {
    const text = readFile('ssh key', p, 4 * SSH_KEY_MAX_BYTES, ErrorCodes.INVALID_ARGUMENT, env);
    try {
      validateSshKeys([text]);
    } catch (err) {
      if (err instanceof BangerError)
        throw new BangerError(err.code, `${p}: ${err.message.replace(/^ssh key 1: /, '')}`);
      throw err;
    }
    return text;
  });
}

/**
 * The form's strings as engine input, or the message the engine would give and its field. Specs
 * are checked by the contract's parsers and sent raw (host dirs made absolute, as the CLI does);
 * files are read here. Nothing is sent when any field is wrong.
 */
export function parseCreateForm(
  v: FormValues,
  env: FormEnv = realEnv(),
): { input: VmCreateInput; warning?: string } | FormError {
  const pick = (x: string | undefined) => (x && x !== '(default)' ? x : undefined);
  try {
    const name = step('name', () => validateName(v.name));
    const vcpus = step('vcpus', () => validateVcpus(v.vcpus));
    const memoryMib = step('memory', () => validateMemory(v.memory));
    const disk = v.disk?.trim() || undefined;
    if (disk !== undefined) step('disk', () => validateDisk(disk));
    const mounts = items(v.mounts).map((m) => absoluteMountSpec(expandHome(m), env.cwd));
    step('mounts', () => planMounts([], mounts, null, env.check));
    const publish = items(v.publish);
    step('publish', () => parsePortSpecs(publish));
    const udPath = v.userData?.trim();
    let warning: string | null = null;
    const userData = udPath
      ? step('userData', () => {
          const text = readFile('user-data', udPath, USER_DATA_MAX_BYTES, ErrorCodes.USER_DATA_TOO_LARGE, env);
          // What banger's own runner will not apply: said after the create, as the CLI warns.
          warning = ignoredWarning(parseUserData(text));
          return text;
        })
      : undefined;
    const sshKeys = step('sshKey', () => sshKeyTexts(items(v.sshKey), env));
    return {
      input: {
        name,
        image: pick(v.image),
        kernel: pick(v.kernel),
        vcpus,
        memoryMib,
        disk,
        ...(pick(v.backend) ? { backend: pick(v.backend) } : {}),
        ...(mounts.length ? { mounts } : {}),
        ...(publish.length ? { publish } : {}),
        ...(userData !== undefined ? { userData } : {}),
        ...(sshKeys.length ? { sshKeys } : {}),
        ...(v.run === 'yes' ? { run: true } : {}),
      },
      ...(warning ? { warning } : {}),
    };
  } catch (err) {
    if (err instanceof BangerError) return { error: err.message, field: (err as { field?: string }).field ?? 'name' };
    throw err;
  }
}
