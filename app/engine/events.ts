// The engine's event bus: front ends subscribe, the engine emits. A throwing listener never
// breaks the engine or the other listeners.
import type { EngineEvent, Unsubscribe } from '../contract/api.js';

export class EventBus {
  private listeners = new Set<(e: EngineEvent) => void>();

  subscribe(fn: (e: EngineEvent) => void): Unsubscribe {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  emit(e: EngineEvent): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch {
        /* a front end's bug stays in the front end */
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
