// Update batching: a throttle for refetches (at most one call per interval, trailing call kept)
// and a render coalescer (many updates in one tick -> one screen.render()).

export class Throttle {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private stopped = false;

  constructor(
    private readonly fn: () => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Run fn soon: at once if the interval has passed, else once at the end of it. */
  call(): void {
    if (this.stopped || this.timer) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.last = this.now();
      if (!this.stopped) this.fn();
    }, wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export class RenderCoalescer {
  private queued = false;
  renders = 0;

  constructor(private readonly render: () => void) {}

  request(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.renders++;
      this.render();
    });
  }
}
