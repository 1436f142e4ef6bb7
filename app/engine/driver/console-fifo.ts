// The console FIFO, the VMM's stdin: a Node pipe is a socketpair, which Firecracker ignores,
// so keystrokes go through a named pipe. Drivers open the VMM's end; the engine writes into it.
import { closeSync, constants, existsSync, openSync, statSync, writeSync } from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

/** Create the console FIFO (mkfifo through the runner). An existing FIFO is reused. */
export async function createConsoleFifo(runner: ProcessRunner, path: string): Promise<void> {
  if (existsSync(path)) {
    if (statSync(path).isFIFO()) return;
    throw new BangerError(ErrorCodes.IN_USE, `console FIFO path exists and is not a FIFO: ${path}`);
  }
  await runner.run(['mkfifo', '-m', '0600', path]);
}

/**
 * Open the FIFO for the VMM's stdin. Read-write, so open() never blocks waiting for a writer
 * and the VMM never sees EOF when the engine's writers come and go.
 */
export function openFifoForVmm(path: string): number {
  return openSync(path, constants.O_RDWR);
}

/** Write keystrokes into the FIFO. Non-blocking: no reader is an error, a full pipe is retried. */
export async function writeConsoleFifo(path: string, data: Buffer | string, timeoutMs = 2000): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO')
      throw new BangerError(ErrorCodes.INVALID_STATE, 'console is not connected: no VMM is reading its input', {
        cause: err,
      });
    if (code === 'ENOENT')
      throw new BangerError(ErrorCodes.INVALID_STATE, `console input FIFO is missing: ${path}`, { cause: err });
    throw new BangerError(ErrorCodes.VMM, `cannot open console input ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const deadline = Date.now() + timeoutMs;
  try {
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off, buf.length - off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw toVmm(err, path);
        // The pipe is full (64 KiB): the VMM is not reading. Wait a little, then give up.
        if (Date.now() > deadline)
          throw new BangerError(
            ErrorCodes.TIMEOUT,
            `console input is not being read (pipe full after ${timeoutMs} ms)`,
          );
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    closeSync(fd);
  }
}

function toVmm(err: unknown, path: string): BangerError {
  return new BangerError(ErrorCodes.VMM, `console write to ${path} failed: ${(err as Error).message}`, { cause: err });
}
