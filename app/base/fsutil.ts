// Small file helpers for error messages and log views: read only the end of a file that may
// be large (console and engine logs), and its size. A missing or unreadable file reads as
// empty, because these feed messages that must not fail themselves.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** Size in bytes, 0 when the file is missing or unreadable. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last maxBytes bytes at or after offset `from`, as text; '' when unreadable. */
export function readTail(path: string, maxBytes: number, from = 0): string {
  return tailWindow(path, maxBytes, from).text;
}

/** The last `lines` lines of a log: only the file's end is read (4 KiB a line is generous). */
export function readLastLines(path: string, lines: number): string[] {
  return readTailLines(path, Math.min(Math.max(64 * 1024, lines * 4096), 16 * 1024 * 1024)).slice(-lines);
}

/**
 * The complete non-empty lines among the last maxBytes bytes at or after `from`: when the
 * window starts inside a line, that partial first line is dropped.
 */
export function readTailLines(path: string, maxBytes: number, from = 0): string[] {
  const w = tailWindow(path, maxBytes, from);
  const lines = w.text.split('\n');
  if (w.start > from && w.start > 0 && !w.afterNewline) lines.shift();
  return lines.filter((l) => l !== '');
}

function tailWindow(
  path: string,
  maxBytes: number,
  from: number,
): { text: string; start: number; afterNewline: boolean } {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    // One descriptor for size and read, so a file growing meanwhile cannot skew the window.
    const size = fstatSync(fd).size;
    const start = Math.min(size, Math.max(from, size - Math.max(0, maxBytes)));
    // One byte before the window tells whether it begins at a line start.
    const lead = start > 0 ? 1 : 0;
    const buf = Buffer.alloc(size - start + lead);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start - lead + got);
      if (n === 0) break;
      got += n;
    }
    const afterNewline = lead === 1 && buf[0] === 0x0a;
    return { text: buf.subarray(lead, got).toString('utf8'), start, afterNewline };
  } catch {
    return { text: '', start: 0, afterNewline: false };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
