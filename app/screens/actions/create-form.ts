// The create-VM form: its fields, and its strings turned into engine input with the contract's
// own validators and spec parsers (the engine uses the same), so the form and the engine cannot
// disagree. The user-data and ssh-key files are read here, on the client, as the CLI does.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { VmCreateInput } from '../../contract/api.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { validateDisk, validateMemory, validateName, validateVcpus } from '../../contract/vm-spec.js';
import { parseMountArg, parsePublishArg } from './spec-parsers.js';
import type { FormField, FormValues } from '../widgets/form.js';

export function createFields(images: string[], kernels: string[]): FormField[] {
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
    { key: 'mounts', label: 'Mounts', kind: 'text', value: '', hint: 'HOSTDIR[:GUESTDIR][:ro], comma-separated' },
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

/** Comma-separated, blanks around each item trimmed, empty items dropped. */
function items(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** A path as a shell would have expanded it: ~ is the home directory, relative is from here. */
export function expandPath(p: string, cwd = process.cwd()): string {
  const home = p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
  return resolve(cwd, home);
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

export type ReadText = (path: string) => string;
const readText: ReadText = (path) => readFileSync(path, 'utf8');

function readFile(what: string, path: string, read: ReadText): string {
  try {
    return read(expandPath(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = (code && READ_ERRORS[code]) ?? (err instanceof Error ? err.message : String(err));
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

/**
 * The form's strings as engine input, or the message the engine would give and its field. Specs
 * are checked by the contract's parsers but sent raw (the engine parses them again); files are
 * read here. Nothing is sent when any field is wrong.
 */
export function parseCreateForm(v: FormValues, read: ReadText = readText): { input: VmCreateInput } | FormError {
  const pick = (x: string | undefined) => (x && x !== '(default)' ? x : undefined);
  try {
    const name = step('name', () => validateName(v.name));
    const vcpus = step('vcpus', () => validateVcpus(v.vcpus));
    const memoryMib = step('memory', () => validateMemory(v.memory));
    const disk = v.disk?.trim() || undefined;
    if (disk !== undefined) step('disk', () => validateDisk(disk));
    const mounts = items(v.mounts);
    step('mounts', () => mounts.forEach((m) => parseMountArg(m)));
    const publish = items(v.publish);
    step('publish', () => publish.forEach((p) => parsePublishArg(p)));
    const userDataPath = v.userData?.trim();
    const userData = userDataPath ? step('userData', () => readFile('user-data', userDataPath, read)) : undefined;
    const sshKeys = step('sshKey', () => items(v.sshKey).map((p) => sshKeyText(p, read)));
    return {
      input: {
        name,
        image: pick(v.image),
        kernel: pick(v.kernel),
        vcpus,
        memoryMib,
        disk,
        ...(mounts.length ? { mounts } : {}),
        ...(publish.length ? { publish } : {}),
        ...(userData !== undefined ? { userData } : {}),
        ...(sshKeys.length ? { sshKeys } : {}),
        ...(v.run === 'yes' ? { run: true } : {}),
      },
    };
  } catch (err) {
    if (err instanceof BangerError) return { error: err.message, field: (err as { field?: string }).field ?? 'name' };
    throw err;
  }
}

/** A public key file's text; a private key is refused before it goes anywhere. */
function sshKeyText(path: string, read: ReadText): string {
  const text = readFile('ssh key', path, read).trim();
  if (/PRIVATE KEY-----/.test(text))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${path} is a private key: give its .pub file`);
  if (!text) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `the ssh key file ${path} is empty`);
  return text;
}
