// Kept-open kernel files for the sampler's hot path. Re-reading an open /proc or /sys file at
// offset 0 regenerates its contents, and skips the path lookup, open and close: measured here
// ~3.7 us instead of ~12 us for /proc/PID/stat, ~1.3 us instead of ~13 us for a sysfs counter.
// A /proc/PID fd stays bound to that process: once it exits, reads fail with ESRCH, so a
// reused pid can never be mistaken for the process we were watching.
import { closeSync, openSync, readSync } from 'node:fs';

const buf = Buffer.allocUnsafe(4096);
const GONE = new Set(['ENOENT', 'ESRCH', 'ENODEV', 'ENXIO', 'ENOTDIR']);

function isGone(e: unknown): boolean {
  return GONE.has((e as NodeJS.ErrnoException)?.code ?? '');
}

export class KernelFile {
  private fd = -1;

  constructor(readonly path: string) {}

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /**
   * The file's text (head, up to 4 KiB), or null when it is gone. Opens lazily; after a
   * "gone" error the fd is closed, and with reopen=true one fresh open is tried (a TAP that
   * was deleted and recreated under the same name).
   */
  read(reopen = false): string | null {
    const wasOpen = this.fd >= 0;
    if (!wasOpen && !this.open()) return null;
    try {
      const n = readSync(this.fd, buf, 0, buf.length, 0);
      return buf.toString('latin1', 0, n);
    } catch (e) {
      if (!isGone(e)) throw e;
      this.close();
      return wasOpen && reopen ? this.read(false) : null;
    }
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        /* already invalid */
      }
      this.fd = -1;
    }
  }

  private open(): boolean {
    try {
      this.fd = openSync(this.path, 'r');
      return true;
    } catch (e) {
      if (isGone(e)) return false;
      throw e;
    }
  }
}
