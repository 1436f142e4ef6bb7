// A fixed-capacity ring buffer for metric history: pushing past capacity overwrites the
// oldest entry, so a long-running engine never grows its history (600 samples = 10 min at 1 Hz).
import { BangerError, ErrorCodes } from '../../base/errors.js';

export class RingBuffer<T> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  /** Index where the next push goes. */
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `ring buffer capacity must be an integer from 1 to 1000000, got ${capacity}`,
      );
    }
    this.capacity = capacity;
    // Preallocated once; pushes only overwrite slots.
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest entry, or undefined when empty. */
  last(): T | undefined {
    if (this.count === 0) return undefined;
    return this.items[(this.head - 1 + this.capacity) % this.capacity];
  }

  /** A copy of the entries, oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.count);
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out[i] = this.items[(start + i) % this.capacity] as T;
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
