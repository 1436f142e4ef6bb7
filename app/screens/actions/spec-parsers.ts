// STAND-IN until the mounts and ports branches land their parsers in app/contract/: the one
// import the create form validates through (swapped for the contract's at the merge).
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { MountSpec, PortSpec } from '../../contract/api.js';

export function parseMountArg(spec: string): Omit<MountSpec, 'tag'> {
  const parts = spec.split(':');
  const readOnly = parts.length > 1 && parts.at(-1) === 'ro';
  if (readOnly) parts.pop();
  const [hostDir, guestDir = hostDir] = parts;
  if (!hostDir || parts.length > 2)
    throw new BangerError(ErrorCodes.INVALID_MOUNT, `invalid mount "${spec}": HOSTDIR[:GUESTDIR][:ro]`);
  if (!guestDir!.startsWith('/'))
    throw new BangerError(ErrorCodes.INVALID_MOUNT, `invalid mount "${spec}": GUESTDIR must be absolute`);
  return { hostDir, guestDir: guestDir!, readOnly };
}

export function parsePublishArg(spec: string): PortSpec {
  const m = /^(?:(.+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m)
    throw new BangerError(ErrorCodes.INVALID_PORT, `invalid port "${spec}": [ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]`);
  const port = (s: string) => {
    const n = Number(s);
    if (n < 1 || n > 65535)
      throw new BangerError(ErrorCodes.INVALID_PORT, `invalid port "${spec}": ${s} is not 1-65535`);
    return n;
  };
  return {
    addr: m[1] ?? '127.0.0.1',
    hostPort: port(m[2]!),
    guestPort: port(m[3]!),
    proto: (m[4] ?? 'tcp') as 'tcp' | 'udp',
  };
}
