// The engine the TUI talks to, kept behind one EngineApi that can be pointed at another
// engine: after the control connection dropped (engine restarted elsewhere) or after the
// embedded engine handed over to a newer build. Screens keep their event and console
// listeners; this re-subscribes them on the new engine, so screens never see sockets.
import type { EngineApi, EngineEvent, Unsubscribe } from '../contract/api.js';
import { EngineCalls, SEND_CALL, type EngineMethod } from '../contract/engine-methods.js';
import { ControlClient, ping } from '../control/client.js';

interface ConsoleEntry {
  listeners: Set<(d: Buffer) => void>;
  /** The subscription on the current engine; null while the VM is not running there. */
  unsub: Unsubscribe | null;
  /** A subscribe in flight on the current engine (callers wait on it, not start another). */
  pending: Promise<void> | null;
}

export class EngineSwitch extends EngineCalls implements EngineApi {
  private target: EngineApi;
  private generation = 0;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private targetUnsub: Unsubscribe | null = null;
  private readonly consoles = new Map<string, ConsoleEntry>();

  constructor(initial: EngineApi) {
    super();
    this.target = initial;
    this.listenTo(initial);
  }

  get current(): EngineApi {
    return this.target;
  }

  /**
   * Talk to `next` from now on. Event listeners carry over; console listeners are subscribed
   * again (a VM that is not running there is picked up when it enters running).
   */
  async swap(next: EngineApi): Promise<void> {
    const gen = ++this.generation;
    safely(() => this.targetUnsub?.());
    this.target = next;
    this.listenTo(next);
    await Promise.all(
      [...this.consoles].map(async ([name, entry]) => {
        safely(() => entry.unsub?.());
        entry.unsub = null;
        entry.pending = null;
        if (gen === this.generation) await this.resubscribe(name, entry).catch(() => {});
      }),
    );
  }

  private listenTo(engine: EngineApi): void {
    const gen = this.generation;
    this.targetUnsub = engine.subscribe((e) => {
      if (gen !== this.generation) return;
      // A console whose VM was not running when we (re)subscribed: follow it once it runs.
      if (e.type === 'vm' && e.vm.state === 'running') {
        const entry = this.consoles.get(e.vm.name);
        if (entry && !entry.unsub && !entry.pending) void this.resubscribe(e.vm.name, entry).catch(() => {});
      }
      for (const l of [...this.listeners]) safely(() => l(e));
    });
  }

  private resubscribe(name: string, entry: ConsoleEntry): Promise<void> {
    const gen = this.generation;
    const engine = this.target;
    // Deferred a tick, so `p` exists before the finally below can run.
    const p: Promise<void> = Promise.resolve().then(async () => {
      try {
        const unsub = await engine.subscribeConsole(name, (d) => {
          if (gen !== this.generation || this.consoles.get(name) !== entry) return;
          for (const l of [...entry.listeners]) safely(() => l(d));
        });
        if (gen !== this.generation || this.consoles.get(name) !== entry) {
          safely(unsub);
          return;
        }
        entry.unsub = unsub;
      } finally {
        if (entry.pending === p) entry.pending = null;
      }
    });
    entry.pending = p;
    return p;
  }

  subscribe(listener: (e: EngineEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** One subscription per VM on the engine, shared by this side's listeners. */
  async subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe> {
    let entry = this.consoles.get(name);
    const fresh = !entry;
    if (!entry) {
      entry = { listeners: new Set(), unsub: null, pending: null };
      this.consoles.set(name, entry);
    }
    try {
      if (!entry.unsub) await (entry.pending ?? this.resubscribe(name, entry));
    } catch (err) {
      // Nobody was listening yet: leave no entry behind (the caller sees the engine's error).
      if (fresh && entry.listeners.size === 0 && this.consoles.get(name) === entry) this.consoles.delete(name);
      throw err;
    }
    const current = entry;
    // A fresh wrapper, so one function subscribed twice needs two unsubscribes.
    const fn = (d: Buffer) => onData(d);
    current.listeners.add(fn);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.listeners.delete(fn);
      if (current.listeners.size === 0 && this.consoles.get(name) === current) {
        this.consoles.delete(name);
        safely(() => current.unsub?.());
      }
    };
  }

  /** Console listeners registered (tests). */
  consoleListenerCount(name: string): number {
    return this.consoles.get(name)?.listeners.size ?? 0;
  }

  // ---- every plain call goes to the current engine (EngineCalls: the contract's method table) ----
  override [SEND_CALL](method: EngineMethod, args: unknown[]): Promise<unknown> {
    return (this.target[method] as (...a: unknown[]) => Promise<unknown>).apply(this.target, args);
  }
}

export interface FindEngineOptions {
  /** How long to keep looking (an engine being started elsewhere takes a few seconds). */
  windowMs?: number;
  intervalMs?: number;
  /** Stop looking early (the user quit meanwhile). */
  cancelled?: () => boolean;
}

/** Ping the socket until an engine answers, then connect; null when none did in time. */
export async function findEngine(socketPath: string, o: FindEngineOptions = {}): Promise<ControlClient | null> {
  const deadline = Date.now() + (o.windowMs ?? 5000);
  const interval = o.intervalMs ?? 200;
  for (;;) {
    if (o.cancelled?.()) return null;
    const left = deadline - Date.now();
    const hello = await ping(socketPath, { timeoutMs: Math.max(200, Math.min(1000, left)) });
    if (hello && !o.cancelled?.()) {
      try {
        return await ControlClient.connect(socketPath, { timeoutMs: 2000 });
      } catch {
        /* it went away again: keep looking */
      }
    }
    if (Date.now() + interval > deadline) return null;
    await new Promise((r) => setTimeout(r, interval));
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a listener's bug, or a dead connection's unsubscribe */
  }
}
