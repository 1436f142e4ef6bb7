// First-boot config (`vm create --user-data FILE --ssh-key FILE`): the checks the engine, the
// CLI and the TUI share, and the cloud-config subset banger's own first-boot runner applies on
// images without cloud-init. Pure: text in, a parsed config or a BangerError out. The engine
// compiles the result into a shell script on the seed drive (app/engine/vm/seed/).
import { parse } from 'yaml';
import { BangerError, ErrorCodes } from '../base/errors.js';

/** user-data larger than this is refused (E_USER_DATA_TOO_LARGE): the seed is a small disk. */
export const USER_DATA_MAX_BYTES = 1024 * 1024;
/** One public key line (RSA 16384 is ~2.8 KiB; certificates are larger). */
export const SSH_KEY_MAX_BYTES = 16 * 1024;
export const SSH_KEYS_MAX = 64;

/** The cloud-config keys banger's runner applies; images with cloud-init apply them all. */
export const SUPPORTED_KEYS = ['write_files', 'runcmd', 'bootcmd', 'ssh_authorized_keys', 'hostname'] as const;

export interface WriteFile {
  path: string;
  content: Buffer;
  /** Octal mode, e.g. 0o644. */
  mode: number;
  /** user[:group] */
  owner: string;
  append: boolean;
}

/** A command: a string runs through sh, a list is an argv. */
export type Command = string | string[];

export interface CloudConfig {
  writeFiles: WriteFile[];
  runcmd: Command[];
  bootcmd: Command[];
  sshAuthorizedKeys: string[];
  hostname: string | null;
}

export type UserData =
  { kind: 'none' } | { kind: 'cloud-config'; config: CloudConfig; ignored: string[] } | { kind: 'script' };

const bad = (msg: string) => new BangerError(ErrorCodes.INVALID_ARGUMENT, `user-data: ${msg}`);

/** The user-data's kind, its config when cloud-config, and the keys banger's runner ignores. */
export function parseUserData(text: string | null | undefined): UserData {
  if (text === null || text === undefined || text === '') return { kind: 'none' };
  const bytes = Buffer.byteLength(text);
  if (bytes > USER_DATA_MAX_BYTES)
    throw new BangerError(
      ErrorCodes.USER_DATA_TOO_LARGE,
      `user-data is ${bytes} bytes; the seed drive takes at most ${USER_DATA_MAX_BYTES} (1 MiB)`,
    );
  if (text.startsWith('#!')) return { kind: 'script' };
  if (!/^#cloud-config[ \t]*\r?\n?/.test(text))
    throw bad('must start with "#cloud-config" (a cloud-config file) or "#!" (a script)');
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true }) ?? {};
  } catch (err) {
    throw bad(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw bad('a cloud-config must be a YAML mapping');
  const m = doc as Record<string, unknown>;
  const ignored = Object.keys(m).filter((k) => !(SUPPORTED_KEYS as readonly string[]).includes(k));
  const config: CloudConfig = {
    writeFiles: list(m.write_files, 'write_files').map((f, i) => writeFile(f, i)),
    runcmd: list(m.runcmd, 'runcmd').map((c, i) => command(c, `runcmd[${i}]`)),
    bootcmd: list(m.bootcmd, 'bootcmd').map((c, i) => command(c, `bootcmd[${i}]`)),
    sshAuthorizedKeys: list(m.ssh_authorized_keys, 'ssh_authorized_keys').map((k, i) =>
      validateSshKey(k, `ssh_authorized_keys[${i}]`),
    ),
    hostname: m.hostname === undefined || m.hostname === null ? null : hostname(m.hostname),
  };
  return { kind: 'cloud-config', config, ignored };
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${what} must be a list`);
  return v;
}

function command(v: unknown, what: string): Command {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length && v.every((a) => ['string', 'number', 'boolean'].includes(typeof a)))
    return v.map(String);
  throw bad(`${what} must be a string or a non-empty list of strings`);
}

const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

function hostname(v: unknown): string {
  const h = String(v);
  if (h.length > 253 || !HOSTNAME.test(h))
    throw bad(`hostname "${h}": dot-separated labels of letters, digits and inner hyphens`);
  return h;
}

function writeFile(v: unknown, i: number): WriteFile {
  const what = `write_files[${i}]`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} must be a mapping`);
  const f = v as Record<string, unknown>;
  const path = f.path;
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0') || path.split('/').includes('..'))
    throw bad(`${what}.path must be an absolute path without ".." (got ${JSON.stringify(path)})`);
  const raw = f.content === undefined || f.content === null ? '' : String(f.content);
  const enc = f.encoding === undefined ? 'text/plain' : String(f.encoding).toLowerCase();
  let content: Buffer;
  if (enc === 'b64' || enc === 'base64') content = Buffer.from(raw, 'base64');
  else if (enc === 'text/plain') content = Buffer.from(raw);
  else throw bad(`${what}.encoding "${enc}": banger supports b64 and text/plain (not gzip)`);
  const perm = f.permissions === undefined ? '0644' : String(f.permissions);
  if (!/^0?[0-7]{3,4}$/.test(perm)) throw bad(`${what}.permissions "${perm}": an octal mode like '0644'`);
  const owner = f.owner === undefined ? 'root:root' : String(f.owner);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(owner))
    throw bad(`${what}.owner "${owner}": user or user:group`);
  return { path, content, mode: parseInt(perm, 8), owner, append: f.append === true };
}

const KEY_TYPE =
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(-cert-v01@openssh\.com)? [A-Za-z0-9+/=]+( .*)?$/;

/** One public key line (options before the key type are not accepted: keep it a plain key). */
export function validateSshKey(v: unknown, what = 'ssh key'): string {
  if (typeof v !== 'string') throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${what}: not a string`);
  const k = v.trim();
  if (Buffer.byteLength(k) > SSH_KEY_MAX_BYTES)
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${what}: over ${SSH_KEY_MAX_BYTES} bytes`);
  if (k.includes('\n') || !KEY_TYPE.test(k))
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what}: not an OpenSSH public key line ("ssh-ed25519 AAAA... comment"); a private key is refused`,
    );
  return k;
}

/** The --ssh-key keys, checked (one key per file's text; blank lines and # comments skipped). */
export function validateSshKeys(keys: unknown): string[] {
  if (keys === undefined || keys === null) return [];
  if (!Array.isArray(keys)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'sshKeys must be a list');
  const out: string[] = [];
  for (const [i, text] of keys.entries()) {
    if (typeof text !== 'string') throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `ssh key ${i + 1}: not text`);
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    if (lines.length === 0) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `ssh key ${i + 1}: empty`);
    for (const l of lines) {
      const k = validateSshKey(l, `ssh key ${i + 1}`);
      if (!out.includes(k)) out.push(k);
    }
  }
  if (out.length > SSH_KEYS_MAX)
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `at most ${SSH_KEYS_MAX} ssh keys (got ${out.length})`);
  return out;
}

/** The CLI's create-time warning for what banger's runner will not apply (null: nothing). */
export function ignoredWarning(u: UserData): string | null {
  if (u.kind !== 'cloud-config' || u.ignored.length === 0) return null;
  return (
    `user-data: banger's first-boot runner ignores ${u.ignored.join(', ')} ` +
    `(it applies ${SUPPORTED_KEYS.join(', ')}; images with cloud-init apply everything)`
  );
}
