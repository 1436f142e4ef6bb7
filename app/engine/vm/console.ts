// The per-VM serial console. Output: the VMM's stdout/stderr go to a log file (never a pipe,
// so the VMM outlives the engine); ConsoleTail follows that file and hands new bytes to
// subscribers. Input: a FIFO is the VMM's stdin (a Node pipe is a socketpair, which
// Firecracker ignores); keystrokes are written into it.
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  watch,
  writeSync,
  type FSWatcher,
} from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';
import { createConsoleFifo, writeConsoleFifo } from '../driver/console-fifo.js';
import type { ConsolePort } from '../ports.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export const DEFAULT_TAIL_BYTES = 64 * 1024;

/** The last maxBytes of a file (empty when it does not exist). */
export function readTail(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, Math.max(0, maxBytes));
    const buf = Buffer.alloc(n);
    const got = n ? readSync(fd, buf, 0, n, size - n) : 0;
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export interface ConsoleTailOptions {
  /** Cap on the log size (config consoleLogMaxBytes); 0 = no cap. */
  maxBytes?: number;
  /** Fallback poll period: fs.watch can miss events (and is absent on some filesystems). */
  pollMs?: number;
}

/**
 * Follows a console log file from its current end and emits new bytes. Enforces the size cap by
 * truncating in place, keeping the last half.
 *
 * Why in place: the VMM holds the file open with O_APPEND (the driver opens it that way), so a
 * rename would leave the VMM writing to the old inode forever. With O_APPEND each VMM write goes
 * to the current end, so after we copy the tail to the front and ftruncate, its next write lands
 * right after the kept bytes. The one cost: bytes the VMM writes between our last read and the
 * ftruncate are lost; we re-read just before truncating to keep that window to microseconds.
 */
export class ConsoleTail {
  private offset = 0;
  private subs = new Set<(b: Buffer) => void>();
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private readonly maxBytes: number;
  private readonly pollMs: number;

  constructor(
    readonly logPath: string,
    opts: ConsoleTailOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 0;
    this.pollMs = opts.pollMs ?? 200;
  }

  /**
   * Begin following from `from` (default: the current end of the file; earlier bytes are in
   * tail()). A boot passes where its output began, so bytes written before the tail started
   * (the guest prints its banner as soon as it boots) still reach subscribers.
   */
  start(from?: number): void {
    if (this.timer) return;
    const size = sizeOf(this.logPath);
    this.offset = from === undefined ? size : Math.min(Math.max(0, from), size);
    try {
      this.watcher = watch(this.logPath, { persistent: false }, () => this.schedule());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null; /* polling alone */
    }
    this.timer = setInterval(() => this.schedule(), this.pollMs);
    this.timer.unref();
    this.enforceCap();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.subs.clear();
  }

  subscribe(fn: (b: Buffer) => void): () => void {
    this.subs.add(fn);
    return () => {
      this.subs.delete(fn);
    };
  }

  tail(maxBytes: number = DEFAULT_TAIL_BYTES): Buffer {
    return readTail(this.logPath, maxBytes);
  }

  /** Read what is new now (also called by the watcher and the poll). */
  poll(): void {
    const size = sizeOf(this.logPath);
    // Shrunk under us (truncated by someone else): follow from the new end, never re-emit.
    if (size < this.offset) this.offset = size;
    if (size > this.offset) this.emit(readRange(this.logPath, this.offset, size));
    this.offset = Math.max(this.offset, size);
    this.enforceCap();
  }

  /** Truncate in place to the last half of the cap when the file is over it. */
  enforceCap(): void {
    if (!this.maxBytes || sizeOf(this.logPath) <= this.maxBytes) return;
    let fd: number;
    try {
      fd = openSync(this.logPath, 'r+');
    } catch {
      return;
    }
    try {
      let size = fstatSync(fd).size;
      if (size > this.offset) {
        this.emit(readFd(fd, this.offset, size));
        this.offset = size;
      }
      const keepFrom = size - Math.floor(this.maxBytes / 2);
      let kept = readFd(fd, keepFrom, size);
      // Start the kept part on a line boundary when one is near, so no half line remains.
      const nl = kept.indexOf(0x0a);
      if (nl >= 0 && nl < 4096) kept = kept.subarray(nl + 1);
      const now = fstatSync(fd).size;
      if (now > size) {
        const extra = readFd(fd, size, now);
        this.emit(extra);
        kept = Buffer.concat([kept, extra]);
        size = now;
      }
      writeSync(fd, kept, 0, kept.length, 0);
      ftruncateSync(fd, kept.length);
      this.offset = kept.length;
    } finally {
      closeSync(fd);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.poll();
      } catch {
        /* the file may vanish with the VM */
      }
    });
  }

  private emit(b: Buffer): void {
    if (!b.length) return;
    for (const fn of this.subs) {
      try {
        fn(b);
      } catch {
        /* a subscriber's failure is its own */
      }
    }
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readRange(path: string, from: number, to: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    return readFd(fd, from, to);
  } finally {
    closeSync(fd);
  }
}

function readFd(fd: number, from: number, to: number): Buffer {
  const buf = Buffer.alloc(Math.max(0, to - from));
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, from + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

export interface ConsoleManagerOptions {
  runner: ProcessRunner;
  /** config.consoleLogMaxBytes */
  maxBytes: number;
  pollMs?: number;
}

/**
 * Every VM's console, adapted to the engine's ConsolePort.
 *
 * Subscribers are kept per VM, apart from the tails: a tail lives for one boot (attach ..
 * detach), but a subscriber (a console screen, a client session) follows the VM across
 * restarts, so each new tail delivers to the same set.
 */
export class ConsoleManager implements ConsolePort {
  private tails = new Map<string, { tail: ConsoleTail; fifo: string }>();
  private subs = new Map<string, Set<(b: Buffer) => void>>();
  /** Log size when a boot was prepared: that boot's output starts there. */
  private bootStart = new Map<string, { log: string; offset: number }>();

  constructor(private o: ConsoleManagerOptions) {}

  async prepare(vmId: string, files: { log: string; fifo: string }): Promise<{ log: string; fifo: string }> {
    const { log, fifo } = files;
    await createConsoleFifo(this.o.runner, fifo);
    closeSync(openSync(log, 'a', 0o600));
    this.bootStart.set(vmId, { log, offset: sizeOf(log) });
    return { log, fifo };
  }

  attach(vmId: string, log: string, fifo: string): void {
    this.detach(vmId);
    const tail = new ConsoleTail(log, { maxBytes: this.o.maxBytes, pollMs: this.o.pollMs });
    tail.subscribe((b) => this.deliver(vmId, b));
    // After a boot: from where it began. After adoption (no prepare): from the end.
    const boot = this.bootStart.get(vmId);
    this.bootStart.delete(vmId);
    tail.start(boot && boot.log === log ? boot.offset : undefined);
    this.tails.set(vmId, { tail, fifo });
  }

  detach(vmId: string): void {
    const t = this.tails.get(vmId);
    if (!t) return;
    this.tails.delete(vmId);
    // The VMM's last lines (shutdown messages) may not have been polled yet.
    try {
      t.tail.poll();
    } catch {
      /* the log may be gone with the VM */
    }
    t.tail.stop();
  }

  async tail(vmId: string, log: string, maxBytes: number): Promise<Buffer> {
    return (this.tails.get(vmId)?.tail ?? null)?.tail(maxBytes) ?? readTail(log, maxBytes);
  }

  /** Only a running VM takes a new subscriber; once made, it lasts until its unsubscribe. */
  subscribe(vmId: string, onData: (b: Buffer) => void): () => void {
    if (!this.tails.has(vmId))
      throw new BangerError(ErrorCodes.INVALID_STATE, 'console is not attached: the VM is not running');
    let set = this.subs.get(vmId);
    if (!set) {
      set = new Set();
      this.subs.set(vmId, set);
    }
    // A wrapper, so the same function subscribed twice needs (and gets) two unsubscribes.
    const fn = (b: Buffer) => onData(b);
    set.add(fn);
    return () => {
      const cur = this.subs.get(vmId);
      if (!cur) return;
      cur.delete(fn);
      if (cur.size === 0) this.subs.delete(vmId);
    };
  }

  /** Subscribers currently registered for a VM (tests, diagnostics). */
  subscriberCount(vmId: string): number {
    return this.subs.get(vmId)?.size ?? 0;
  }

  private deliver(vmId: string, b: Buffer): void {
    const set = this.subs.get(vmId);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(b);
      } catch {
        /* a subscriber's failure is its own */
      }
    }
  }

  async write(vmId: string, data: Buffer): Promise<void> {
    const t = this.tails.get(vmId);
    if (!t) throw new BangerError(ErrorCodes.INVALID_STATE, 'console is not attached: the VM is not running');
    await writeConsoleFifo(t.fifo, data);
  }

  async cleanup(fifo: string): Promise<void> {
    rmSync(fifo, { force: true });
  }
}
