// How the lifecycle notices a VMM that ended on its own and keeps its record honest: one timer
// polls the VMMs that are not our children (their exit status never reaches us), and an exit
// that could not be recorded (disk full, database busy) is retried through reconcile.
import type { VmRecord } from '../../contract/api.js';
import type { VmmHandle } from '../driver/contract.js';
import type { Logger } from '../../base/log.js';
import { pidAlive } from '../../base/pid.js';

/** One timer for all VMs; it stops itself when no VMM is left to watch. */
export class ExitPoller {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly handles: Map<string, VmmHandle>,
    private readonly stopping: Set<string>,
    private readonly onGone: (vmId: string) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const [id, h] of this.handles) {
        // Our own children report their exit status through `exited`; poll only the others.
        if (!h.exited && !this.stopping.has(id) && !pidAlive(h.pid)) this.onGone(id);
      }
      if (this.handles.size === 0) this.stop();
    }, 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export interface FixLaterDeps {
  /** The VM is ours again (restarted) or busy: nothing to fix. */
  skip(vmId: string): boolean;
  reconcile(): Promise<unknown> | undefined;
  /** The record still claims a VMM that is gone. */
  stillClaimed(vmId: string): boolean;
  logger: Logger;
}

/** Reconcile every few seconds until the record no longer claims a VMM that is gone. */
export function fixLater(vmId: string, d: FixLaterDeps, delayMs = 2000): void {
  setTimeout(async () => {
    if (d.skip(vmId)) return;
    await d.reconcile()?.catch((err) => d.logger.warn('reconcile failed', { err: String(err) }));
    let again = true; // the database still failing: try again
    try {
      again = d.stillClaimed(vmId);
    } catch {
      /* again */
    }
    if (again) fixLater(vmId, d, Math.min(delayMs * 2, 30_000));
  }, delayMs).unref();
}

/** What a VMM that exited on its own leaves in its record, and the event's note. */
export function exitRecord(info: { code: number | null; signal: string | null }): {
  patch: Partial<VmRecord>;
  note: string;
} {
  const unknown = info.code === null && info.signal === null;
  const clean = info.code === 0;
  const reason = clean
    ? null
    : unknown
      ? 'VMM exited on its own (exit status unknown: it was adopted, not started by this engine)'
      : `VMM exited on its own (${info.signal ? `signal ${info.signal}` : `exit ${info.code}`})`;
  const patch: Partial<VmRecord> = {
    state: clean || unknown ? 'stopped' : 'error',
    pid: null,
    socketPath: null,
    tap: null,
    stoppedAt: new Date().toISOString(),
    exitCode: info.code,
    exitSignal: info.signal,
    lastError: reason,
  };
  return { patch, note: reason ?? 'guest shut down' };
}
