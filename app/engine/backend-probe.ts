// Which backends answer, asked of their binaries (a process each) and shared briefly, and the
// backend a VM gets when none is named. Out of engine.ts: status and create both read it.
import type { Backend, EngineStatus } from '../contract/api.js';
import type { Config } from './config.js';
import type { VmDriver } from './driver/contract.js';

/** How long a backend availability probe is reused by status(). */
const BACKENDS_TTL_MS = 5000;

export class BackendProbe {
  private defaultBackendCache: Backend | null = null;
  private backendsCache: { at: number; result: Promise<EngineStatus['backends']>; settled?: boolean } | null = null;
  private backendsRefreshing = false;

  constructor(
    private readonly drivers: Map<Backend, VmDriver>,
    private readonly configured: Config['defaultBackend'],
  ) {}

  /** The backend a VM gets when none is named: firecracker when its binary is found, else qemu. */
  async defaultBackend(): Promise<Backend> {
    if (this.configured !== 'auto') return this.configured;
    if (this.defaultBackendCache) return this.defaultBackendCache;
    // The same probe status shows (one process per backend, shared).
    const ok = (await this.backends()).some((b) => b.name === 'firecracker' && b.available);
    this.defaultBackendCache = ok || !this.drivers.has('qemu') ? 'firecracker' : 'qemu';
    return this.defaultBackendCache;
  }

  /**
   * Probing a backend runs its binary (a process each): concurrent status calls share one
   * probe and reuse it briefly, so a burst of front ends cannot starve the engine. Past that, a
   * good answer is still given at once while a fresh probe runs behind it: status stays instant
   * (CLI verbs, the TUI's first frame) and is at most one probe behind the host.
   */
  backends(): Promise<EngineStatus['backends']> {
    const c = this.backendsCache;
    if (c && (Date.now() - c.at < BACKENDS_TTL_MS || this.backendsRefreshing)) return c.result;
    // Both backends at once, as doctor asks them.
    const result = Promise.all(
      [...this.drivers].map(async ([name, drv]) => {
        const a = await drv.available();
        return { name, available: a.ok, reason: a.reason };
      }),
    );
    const entry = { at: Date.now(), result };
    if (c?.settled) {
      this.backendsRefreshing = true;
      void result
        .then(
          () => {
            if (this.backendsCache === c) this.backendsCache = { ...entry, settled: true };
          },
          () => {},
        )
        .finally(() => {
          this.backendsRefreshing = false;
        });
      return c.result;
    }
    this.backendsCache = entry;
    result.then(
      () => {
        if (this.backendsCache === entry) this.backendsCache = { ...entry, settled: true };
      },
      () => {
        if (this.backendsCache === entry) this.backendsCache = null;
      },
    );
    return result;
  }
}
