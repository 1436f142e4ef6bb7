// Reaching the engine's control socket: the trusted dial every client starts with, and ping
// (is an engine there, and which). The ControlClient (client.ts) talks over what dial returns.
import { createConnection, type Socket } from 'node:net';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { assertTrustedSocket } from '../base/runtime-trust.js';
import { LineSplitter, PROTOCOL_VERSION, encodeLine, decodeLine, type HelloInfo } from './protocol.js';
import type { WireRequest } from './methods.js';

export interface ConnectOptions {
  /** Budget for connecting and the hello exchange. */
  timeoutMs?: number;
}

/**
 * Is an engine listening? Its hello, or null when nothing is there (no socket file,
 * connection refused, or no answer in time). Front ends use it to pick attach or embed.
 */
export async function ping(socketPath: string, opts: ConnectOptions = {}): Promise<HelloInfo | null> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  let socket: Socket;
  try {
    socket = await dial(socketPath, timeoutMs);
  } catch (err) {
    // Not "no engine": starting one next to a planted socket would be wrong too.
    if ((err as BangerError).code === ErrorCodes.UNTRUSTED_PATH) throw err;
    return null;
  }
  return new Promise((resolve) => {
    const splitter = new LineSplitter(
      64 * 1024,
      (line) => {
        try {
          const msg = decodeLine(line) as { id?: number; ok?: boolean; result?: HelloInfo };
          if (msg.id === 0 && msg.ok && msg.result) return finish(msg.result);
        } catch {
          /* fall through */
        }
        finish(null);
      },
      () => finish(null),
    );
    const timer = setTimeout(() => finish(null), timeoutMs);
    function finish(v: HelloInfo | null): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    }
    socket.on('data', (c: Buffer) => splitter.push(c));
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.write(
      encodeLine({ v: PROTOCOL_VERSION, id: 0, method: 'hello', params: [] } satisfies WireRequest<'hello'>),
    );
  });
}

export function dial(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // A socket someone else owns (or in a directory they can write) is never talked to.
    assertTrustedSocket(socketPath);
    const socket = createConnection(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new BangerError(ErrorCodes.TIMEOUT, `no answer from the engine socket ${socketPath} within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Until the owner attaches its own handler, an error must not crash the process.
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(unavailable(socketPath, err));
    });
  });
}

export function unavailable(socketPath: string, err: NodeJS.ErrnoException): BangerError {
  const why =
    err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      ? 'no engine is listening'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.message;
  return new BangerError(ErrorCodes.ENGINE_UNAVAILABLE, `cannot reach the engine at ${socketPath}: ${why}`, {
    cause: err,
    details: { errno: err.code },
  });
}
