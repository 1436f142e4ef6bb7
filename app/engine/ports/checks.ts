// What the host says about a published port: held by another VM of ours (the store), by another
// process (a bind), or below the privileged-port line for an engine that is not root. Each is a
// stable code; callers check before they write anything.
import { readFileSync } from 'node:fs';
import type { PortSpec, VmRecord } from '../../contract/api.js';
import { formatAddr, formatPort, portsClash } from '../../contract/port-spec.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { TcpForward } from './tcp-forward.js';
import { UdpForward } from './udp-forward.js';

const SYSCTL = '/proc/sys/net/ipv4/ip_unprivileged_port_start';

/** The lowest port anyone may bind in this network namespace (1024 unless changed). */
export function unprivilegedPortStart(): number {
  try {
    const n = Number(readFileSync(SYSCTL, 'utf8').trim());
    return Number.isInteger(n) && n >= 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

function where(p: PortSpec): string {
  return `${formatAddr(p.addr)}:${p.hostPort}/${p.proto}`;
}

export function privilegedError(p: PortSpec, start = unprivilegedPortStart()): BangerError {
  return new BangerError(
    ErrorCodes.PORT_PRIVILEGED,
    `host port ${p.hostPort} is below ${start} (net.ipv4.ip_unprivileged_port_start): only root may listen there, and the engine runs as you; publish a port >= ${start} instead (e.g. ${Math.max(start, 8000) + (p.guestPort % 1000)}:${p.guestPort})`,
    { details: { hostPort: p.hostPort, unprivilegedPortStart: start } },
  );
}

/** Not root, and the port is below the line: refused before any bind, with the reason. */
export function refusePrivileged(ports: PortSpec[], uid = process.getuid?.() ?? 0, start = unprivilegedPortStart()) {
  if (uid === 0) return;
  const low = ports.find((p) => p.hostPort < start);
  if (low) throw privilegedError(low, start);
}

/** Another VM of ours that publishes the same host socket (whatever its state). */
export function refuseStoreClash(vms: VmRecord[], selfId: string | null, ports: PortSpec[]): void {
  for (const vm of vms) {
    if (vm.id === selfId) continue;
    for (const theirs of vm.ports ?? []) {
      const p = ports.find((q) => portsClash(q, theirs));
      if (p)
        throw new BangerError(
          ErrorCodes.PORT_TAKEN,
          `host port ${where(p)} is already published by VM "${vm.name}" (${formatPort(theirs)})`,
          { details: { vm: vm.name } },
        );
    }
  }
}

/** A bind's failure as the user's error: taken, privileged, or an address this host lacks. */
export function bindError(p: PortSpec, err: unknown): BangerError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE')
    return new BangerError(
      ErrorCodes.PORT_TAKEN,
      `host port ${where(p)} is held by another process (ss -lntup shows which)`,
      { cause: err },
    );
  if (code === 'EACCES') return privilegedError(p);
  if (code === 'EADDRNOTAVAIL')
    return new BangerError(
      ErrorCodes.INVALID_PORT,
      `cannot listen on ${formatAddr(p.addr)}: it is not an address of this host (ip -br addr lists them)`,
      { cause: err },
    );
  return new BangerError(ErrorCodes.INTERNAL, `cannot listen on ${where(p)}: ${(err as Error)?.message}`, {
    cause: err,
  });
}

/** A listener for p (not yet listening). */
export function forwardFor(
  p: PortSpec,
  target: () => { host: string; port: number } | null,
  o: { udpIdleMs?: number; onError?: (err: Error) => void } = {},
): TcpForward | UdpForward {
  const common = { addr: p.addr, port: p.hostPort, target, onError: o.onError };
  return p.proto === 'tcp' ? new TcpForward(common) : new UdpForward({ ...common, idleMs: o.udpIdleMs });
}

/** Bind each port for a moment: another process holding one is E_PORT_TAKEN now, not at start. */
export async function probeFree(ports: PortSpec[]): Promise<void> {
  for (const p of ports) {
    const f = forwardFor(p, () => null);
    try {
      await f.listen();
    } catch (err) {
      throw bindError(p, err);
    } finally {
      await f.close();
    }
  }
}
