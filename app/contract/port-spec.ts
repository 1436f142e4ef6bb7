// Published ports (vm create --publish, vm port add/rm): the spec grammar, pure, so the TUI's
// create form checks with the engine's own rules. What needs the host (another process holding
// the port, a privileged port) is checked by the engine (engine/ports/checks.ts).
import { isIPv4, isIPv6 } from 'node:net';
import type { PortProto, PortSpec } from './vm-extras.js';
import { BangerError, ErrorCodes } from '../base/errors.js';

export const PORT_SPEC_RULE =
  '[ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp], ports 1-65535, e.g. 8080:80 or 0.0.0.0:5353:53/udp';
export const DEFAULT_PORT_ADDR = '127.0.0.1';

/** What `vm port rm` names: a host port, and the address and protocol when given. */
export interface PortKey {
  addr: string | null;
  hostPort: number;
  proto: PortProto | null;
}

function invalid(spec: string, why: string): BangerError {
  return new BangerError(ErrorCodes.INVALID_PORT, `invalid published port "${spec}": ${why} (${PORT_SPEC_RULE})`);
}

function port(spec: string, what: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(spec, `${what} "${text}" is not a number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw invalid(spec, `${what} ${n} is out of 1-65535`);
  return n;
}

/** An IPv4 address, or an IPv6 one in brackets ([::1]); kept in its canonical text. */
function address(spec: string, text: string): string {
  if (text.startsWith('[') && text.endsWith(']') && isIPv6(text.slice(1, -1))) return text.slice(1, -1).toLowerCase();
  if (isIPv4(text)) return text;
  throw invalid(spec, `"${text}" is not an IPv4 address or a bracketed IPv6 one`);
}

/** Split off "/tcp" or "/udp" (tcp when absent, or null when absent and allowed). */
function splitProto(spec: string, s: string): [string, PortProto | null] {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return [s, null];
  const p = s.slice(slash + 1).toLowerCase();
  if (p !== 'tcp' && p !== 'udp') throw invalid(spec, `protocol "${s.slice(slash + 1)}" is neither tcp nor udp`);
  return [s.slice(0, slash), p];
}

/** "[ADDR:]REST" where ADDR may be a bracketed IPv6 address full of colons. */
function splitAddr(spec: string, s: string, parts: number): [string | null, string[]] {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') throw invalid(spec, 'an IPv6 address needs its closing "]:"');
    return [address(spec, s.slice(0, end + 1)), s.slice(end + 2).split(':')];
  }
  const all = s.split(':');
  if (all.length === parts + 1) return [address(spec, all[0]), all.slice(1)];
  return [null, all];
}

/** Parse one --publish value; a missing ADDR is 127.0.0.1, a missing protocol tcp. */
export function parsePortSpec(raw: unknown): PortSpec {
  const spec = typeof raw === 'string' ? raw.trim() : '';
  if (!spec) throw invalid(String(raw ?? ''), 'it is empty');
  const [body, proto] = splitProto(spec, spec);
  const [addr, ports] = splitAddr(spec, body, 2);
  if (ports.length !== 2) throw invalid(spec, 'expected HOSTPORT:GUESTPORT');
  return {
    addr: addr ?? DEFAULT_PORT_ADDR,
    hostPort: port(spec, 'host port', ports[0]),
    guestPort: port(spec, 'guest port', ports[1]),
    proto: proto ?? 'tcp',
  };
}

/** Parse what `vm port rm` takes: [ADDR:]HOSTPORT[/PROTO]; what is left out matches any. */
export function parsePortKey(raw: unknown): PortKey {
  const spec = typeof raw === 'string' ? raw.trim() : '';
  if (!spec) throw invalid(String(raw ?? ''), 'it is empty');
  const [body, proto] = splitProto(spec, spec);
  const [addr, ports] = splitAddr(spec, body, 1);
  if (ports.length !== 1) throw invalid(spec, 'expected [ADDR:]HOSTPORT[/PROTO]');
  return { addr, hostPort: port(spec, 'host port', ports[0]), proto };
}

/** Every --publish of a create, parsed; two that would hold one host port are refused. */
export function parsePortSpecs(raw: unknown): PortSpec[] {
  if (raw !== undefined && !Array.isArray(raw))
    throw new BangerError(ErrorCodes.INVALID_PORT, `published ports must be a list of specs (${PORT_SPEC_RULE})`);
  const out: PortSpec[] = [];
  for (const r of (raw as unknown[] | undefined) ?? []) {
    const p = parsePortSpec(r);
    const twin = out.find((q) => portsClash(p, q));
    if (twin)
      throw new BangerError(
        ErrorCodes.PORT_TAKEN,
        `published port ${formatPort(p)} clashes with ${formatPort(twin)} given before it`,
      );
    out.push(p);
  }
  return out;
}

/** The canonical text of a published port: 127.0.0.1:8080:80/tcp ([::1]:8080:80/tcp). */
export function formatPort(p: PortSpec): string {
  return `${formatAddr(p.addr)}:${p.hostPort}:${p.guestPort}/${p.proto}`;
}

export function formatAddr(addr: string): string {
  return addr.includes(':') ? `[${addr}]` : addr;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Would these two need the same host socket? Same protocol and port, and an address in common. */
export function portsClash(a: Pick<PortSpec, 'addr' | 'hostPort' | 'proto'>, b: typeof a): boolean {
  return (
    a.proto === b.proto &&
    a.hostPort === b.hostPort &&
    (a.addr === b.addr || WILDCARDS.has(a.addr) || WILDCARDS.has(b.addr))
  );
}

/** Does the published port p match what `vm port rm` named? */
export function matchesKey(p: PortSpec, k: PortKey): boolean {
  return (
    p.hostPort === k.hostPort && (k.addr === null || k.addr === p.addr) && (k.proto === null || k.proto === p.proto)
  );
}
