// Shared set-up for the control tests: a private temp dir, a real server on a real Unix
// socket, and a raw line-level connection for poking at the wire directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer, type ControlServerOptions } from '../../app/control/server.js';
import { FakeEngine } from '../helpers/fake-engine.js';

export function tempDir(prefix = 'bgc-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  engine: FakeEngine;
  server: ControlServer;
  socketPath: string;
  dir: string;
  stop: () => Promise<void>;
}

export async function startServer(extra: Partial<ControlServerOptions> = {}): Promise<Running> {
  const { dir, cleanup } = tempDir();
  const socketPath = join(dir, 'run', 'engine.sock');
  // Protocol tests: instant transitions and a console that echoes bytes as sent.
  const engine = (extra.engine as FakeEngine | undefined) ?? new FakeEngine({ transitionMs: 0, echo: 'raw' });
  const server = new ControlServer({ engine, socketPath, buildId: 'test-build', ...extra });
  await server.listen();
  return {
    engine,
    server,
    socketPath,
    dir,
    stop: async () => {
      await server.close();
      cleanup();
    },
  };
}

/** A connection that speaks raw lines, for malformed input and version tests. */
export class RawConn {
  private buf = '';
  private waiters: ((line: string) => void)[] = [];
  private lines: string[] = [];
  closed = false;
  readonly closedP: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) !== -1) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    socket.on('error', () => {});
    this.closedP = new Promise((r) =>
      socket.once('close', () => {
        this.closed = true;
        r();
      }),
    );
  }

  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  next(timeoutMs = 2000): Promise<Record<string, any>> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(JSON.parse(l));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no line within timeout')), timeoutMs);
      this.waiters.push((line) => {
        clearTimeout(t);
        resolve(JSON.parse(line));
      });
    });
  }

  async request(method: string, params: unknown[] = [], id = 1, v: unknown = 1): Promise<Record<string, any>> {
    this.send(JSON.stringify({ v, id, method, params }) + '\n');
    return this.next();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Wait until cond() holds (for effects that cross the socket), or fail. */
export async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
