// STAND-IN until the mounts, ports and seed branches land their parsers in app/contract/
// (mounts.ts, port-spec.ts, user-data.ts): the same names and signatures, rough rules. The
// create form imports only from here; the merge points this file at the contract's modules.
import { isAbsolute, normalize, resolve } from 'node:path';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { MountSpec, PortSpec } from '../../contract/api.js';

export type HostDirCheck = (absPath: string) => { kind: 'dir'; realPath: string } | { kind: 'missing' | 'not-dir' };
export const USER_DATA_MAX_BYTES = 1024 * 1024;
export const SSH_KEY_MAX_BYTES = 16 * 1024;

export function absoluteMountSpec(raw: string, cwd: string): string {
  const i = raw.indexOf(':');
  const host = i < 0 ? raw : raw.slice(0, i);
  if (host === '' || isAbsolute(host)) return raw;
  return resolve(cwd, host) + (i < 0 ? '' : raw.slice(i));
}

export function planMounts(existing: MountSpec[], raws: string[], _cwd: null, check: HostDirCheck): MountSpec[] {
  return [
    ...existing,
    ...raws.map((raw, i) => {
      const parts = raw.split(':');
      const readOnly = parts.length > 1 && parts.at(-1) === 'ro';
      if (readOnly) parts.pop();
      const [host, guest = host] = parts;
      const bad = (why: string) => new BangerError(ErrorCodes.INVALID_MOUNT, `invalid mount "${raw}": ${why}`);
      if (!host || parts.length > 2) throw bad('HOSTDIR[:GUESTDIR][:ro]');
      if (!guest!.startsWith('/')) throw bad(`the guest directory "${guest}" must be absolute`);
      const found = check(normalize(host));
      if (found.kind !== 'dir') throw bad(`the host directory ${host} does not exist`);
      return { hostDir: found.realPath, guestDir: guest!, readOnly, tag: `m${i}` };
    }),
  ];
}

export function parsePortSpecs(raw: string[]): PortSpec[] {
  return raw.map((spec) => {
    const m = /^(?:(.+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
    const bad = (why: string) => new BangerError(ErrorCodes.INVALID_PORT, `invalid published port "${spec}": ${why}`);
    if (!m) throw bad('[ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]');
    const port = (s: string) => {
      if (Number(s) < 1 || Number(s) > 65535) throw bad(`${s} is out of 1-65535`);
      return Number(s);
    };
    return {
      addr: m[1] ?? '127.0.0.1',
      hostPort: port(m[2]!),
      guestPort: port(m[3]!),
      proto: m[4] === 'udp' ? 'udp' : 'tcp',
    };
  });
}

export function parseUserData(text: string): unknown {
  if (Buffer.byteLength(text) > USER_DATA_MAX_BYTES)
    throw new BangerError(ErrorCodes.USER_DATA_TOO_LARGE, `user-data is over ${USER_DATA_MAX_BYTES} bytes`);
  if (!text.startsWith('#!') && !text.startsWith('#cloud-config'))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'user-data: must start with "#cloud-config" or "#!"');
  return {};
}

export function ignoredWarning(_u: unknown): string | null {
  return null;
}

export function validateSshKeys(keys: string[]): string[] {
  return keys.map((k, i) => {
    if (!k.trim()) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `ssh key ${i + 1}: empty`);
    if (!/^ssh-\S+ [A-Za-z0-9+/=]+/.test(k.trim()))
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `ssh key ${i + 1}: not an OpenSSH public key line`);
    return k.trim();
  });
}
