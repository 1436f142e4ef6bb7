// Every acquired resource (TAP, lease, FIFO, VMM process, build dir) pushes its undo; on failure
// they run in reverse, so a failed boot or build leaves nothing the next engine must clean up.
// Undo failures are collected, never thrown over the original error.

export interface UndoEntry {
  name: string;
  fn: () => Promise<void> | void;
}

export class UndoStack {
  private entries: UndoEntry[] = [];
  readonly failures: { name: string; error: unknown }[] = [];

  push(name: string, fn: () => Promise<void> | void): void {
    this.entries.push({ name, fn });
  }

  get size(): number {
    return this.entries.length;
  }

  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** Run every undo in reverse order; keeps going past failures. */
  async unwind(): Promise<void> {
    while (this.entries.length) {
      const e = this.entries.pop()!;
      try {
        await e.fn();
      } catch (error) {
        this.failures.push({ name: e.name, error });
      }
    }
  }

  /** Forget the entries (the resources now belong to a running VM). */
  commit(): void {
    this.entries = [];
  }
}
