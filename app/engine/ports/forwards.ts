// The published ports of every running VM: one listener per port, open while the VM runs
// (opened before its boot, so a port someone took fails the start cleanly; opened again when
// an engine adopts a running VM), closed when it stops, at delete, and when the engine lets go
// (a restart or a handover to a newer build, whose engine opens them again).
import type { PortSpec } from '../../contract/api.js';
import { formatPort } from '../../contract/port-spec.js';
import type { Logger } from '../../base/log.js';
import { bindError, forwardFor } from './checks.js';
import type { TcpForward } from './tcp-forward.js';
import type { UdpForward } from './udp-forward.js';

export interface PortForwardsDeps {
  /** The guest address of a VM that runs (running or paused), else null. */
  guestIp(vmId: string): string | null;
  logger: Logger;
  udpIdleMs?: number;
}

type Listener = TcpForward | UdpForward;

export class PortForwards {
  private readonly byVm = new Map<string, Map<string, Listener>>();

  constructor(private readonly d: PortForwardsDeps) {}

  /** The published ports open for a VM, as canonical text (tests, status). */
  openFor(vmId: string): string[] {
    return [...(this.byVm.get(vmId)?.keys() ?? [])];
  }

  private listener(vmId: string, p: PortSpec): Listener {
    return forwardFor(
      p,
      () => {
        const ip = this.d.guestIp(vmId);
        return ip ? { host: ip, port: p.guestPort } : null;
      },
      {
        udpIdleMs: this.d.udpIdleMs,
        onError: (err) => this.d.logger.warn(`published port ${formatPort(p)}: ${err.message}`),
      },
    );
  }

  /**
   * Open what is not open yet. All or nothing: the first that cannot be bound closes the ones
   * this call opened and throws its error (E_PORT_TAKEN, E_PORT_PRIVILEGED, E_INVALID_PORT).
   */
  async open(vmId: string, ports: PortSpec[]): Promise<void> {
    const mine = this.byVm.get(vmId) ?? new Map<string, Listener>();
    this.byVm.set(vmId, mine);
    const opened: string[] = [];
    try {
      for (const p of ports) {
        const key = formatPort(p);
        if (mine.has(key)) continue;
        const l = this.listener(vmId, p);
        try {
          await l.listen();
        } catch (err) {
          throw bindError(p, err);
        }
        mine.set(key, l);
        opened.push(key);
      }
    } catch (err) {
      for (const key of opened) await this.closeOne(vmId, key);
      if (!mine.size) this.byVm.delete(vmId);
      throw err;
    }
  }

  /** Open each port that can be (an adopted VM runs already); returns why the others could not. */
  async openEach(vmId: string, ports: PortSpec[]): Promise<string[]> {
    const failed: string[] = [];
    for (const p of ports) {
      try {
        await this.open(vmId, [p]);
      } catch (err) {
        failed.push(`${formatPort(p)}: ${(err as Error).message}`);
      }
    }
    return failed;
  }

  private async closeOne(vmId: string, key: string): Promise<void> {
    const mine = this.byVm.get(vmId);
    const l = mine?.get(key);
    if (!l) return;
    mine!.delete(key);
    await l.close().catch((err) => this.d.logger.warn(`closing published port ${key}`, { err: String(err) }));
  }

  /** Close some of a VM's ports (vm port rm), or all of them. */
  async close(vmId: string, ports?: PortSpec[]): Promise<void> {
    const keys = ports ? ports.map(formatPort) : this.openFor(vmId);
    for (const key of keys) await this.closeOne(vmId, key);
    if (!this.byVm.get(vmId)?.size) this.byVm.delete(vmId);
  }

  async closeAll(): Promise<void> {
    for (const vmId of [...this.byVm.keys()]) await this.close(vmId);
  }
}
