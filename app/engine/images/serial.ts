// One at a time per key (a cache dir, a kernel object tree): later callers queue behind the
// current one. A queued caller can be cancelled while it waits without ever running, and
// the queue behind it still waits for the holder.
import { BangerError, ErrorCodes } from '../../base/errors.js';

const tails = new Map<string, Promise<void>>();

export interface SerialOptions {
  /** Stop waiting (E_CANCELLED); once fn runs it is fn's own business to honour it. */
  signal?: AbortSignal;
  /** Called once when fn has to wait for another holder (to say so in a build log). */
  onWait?: () => void;
}

export async function serial<T>(key: string, fn: () => Promise<T>, o: SerialOptions = {}): Promise<T> {
  const prev = tails.get(key);
  let release!: () => void;
  const mine = new Promise<void>((r) => {
    release = r;
  });
  // Never rejects: the queue moves on whatever the holder's fate.
  const tail = (prev ?? Promise.resolve()).then(() => mine);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  try {
    if (prev) {
      o.onWait?.();
      await untilDoneOrAborted(prev, o.signal);
    }
    if (o.signal?.aborted) throw cancelled();
    return await fn();
  } finally {
    release();
  }
}

function cancelled(): BangerError {
  return new BangerError(ErrorCodes.CANCELLED, 'cancelled while waiting for another build');
}

function untilDoneOrAborted(p: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
