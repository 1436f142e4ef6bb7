// Serves any EngineApi on a Unix socket so a TUI or CLI in another process can drive a
// background engine. The socket lives in a 0700 dir and is itself 0600: the engine runs
// host commands, so only its owner may talk to it.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EngineApi, EngineStatus } from '../contract/api.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { nullLogger, type Logger } from '../base/log.js';
import { PROTOCOL_VERSION, type HelloInfo } from './protocol.js';
import { Session } from './session.js';
import { ping } from './client.js';

/** Longest path a sockaddr_un takes on Linux (108 bytes including the NUL). */
export const MAX_SOCKET_PATH = 107;
const CLOSE_GRACE_MS = 2000;

export interface ControlServerOptions {
  engine: EngineApi;
  socketPath: string;
  buildId: string;
  logger?: Logger;
  /** Reported by hello; a server started by `--detach` is 'detached'. */
  mode?: EngineStatus['mode'];
  /**
   * A newer engine asks this one to step aside: stop serving and release the state dir
   * without touching VMs. Without it, handover is refused.
   */
  onHandover?: () => Promise<void>;
  /** How long close() lets in-flight requests finish before dropping their clients. */
  closeGraceMs?: number;
}

export class ControlServer {
  private server: Server | null = null;
  private readonly sessions = new Set<Session>();
  private closingFlag = false;
  private closePromise: Promise<void> | null = null;
  private readonly logger: Logger;

  constructor(private readonly opts: ControlServerOptions) {
    this.logger = opts.logger ?? nullLogger;
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  hello(): HelloInfo {
    return {
      protocol: PROTOCOL_VERSION,
      buildId: this.opts.buildId,
      pid: process.pid,
      mode: this.opts.mode ?? 'detached',
    };
  }

  async listen(): Promise<void> {
    if (this.server) throw new BangerError(ErrorCodes.INTERNAL, 'control server already listening');
    const path = this.opts.socketPath;
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `control socket path is too long (${Buffer.byteLength(path)} bytes, max ${MAX_SOCKET_PATH}): ${path}`,
      );
    }
    preparePrivateDir(dirname(path));
    await this.clearStaleSocket(path);

    const server = createServer((socket) => this.accept(socket));
    // bind() happens inside listen() synchronously: a tight umask there means the socket
    // is never reachable with looser permissions, even for an instant.
    const listening = new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const oldMask = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(oldMask);
    }
    try {
      await listening;
    } catch (err) {
      throw new BangerError(ErrorCodes.ENGINE_UNAVAILABLE, `cannot listen on ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    chmodSync(path, 0o600);
    server.on('error', (err) => this.logger.error('control server error', { err: err.message }));
    this.server = server;
    this.logger.info('control socket listening', { path });
  }

  /** Stop accepting, let in-flight answers go out, end every client, remove the socket. */
  close(): Promise<void> {
    if (!this.closePromise) this.closePromise = this.doClose();
    return this.closePromise;
  }

  get closing(): boolean {
    return this.closingFlag;
  }

  private async doClose(): Promise<void> {
    this.closingFlag = true;
    const server = this.server;
    if (!server) return;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.opts.socketPath);
    } catch {
      /* already gone */
    }
    for (const s of this.sessions) s.endGracefully();
    // A session answering shutdown/handover is inside this very close(); it ends itself
    // once its answer is written, so waiting for it would deadlock.
    const others = [...this.sessions].filter((s) => !s.isSelfEnding).map((s) => s.closed);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.opts.closeGraceMs ?? CLOSE_GRACE_MS);
    });
    const result = await Promise.race([Promise.all(others).then(() => 'done' as const), grace]);
    clearTimeout(timer);
    if (result === 'timeout') {
      for (const s of this.sessions) if (!s.isSelfEnding) s.destroy();
    }
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 100))]);
    this.logger.info('control socket closed', { path: this.opts.socketPath });
  }

  private accept(socket: Socket): void {
    if (this.closingFlag) {
      socket.destroy();
      return;
    }
    const isClosing = () => this.closingFlag;
    const session = new Session(socket, {
      engine: this.opts.engine,
      logger: this.logger,
      hello: () => this.hello(),
      get closing() {
        return isClosing();
      },
      handover: () => this.handover(),
    });
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
  }

  private async handover(): Promise<{ pid: number }> {
    if (!this.opts.onHandover) {
      throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'this engine does not support handover');
    }
    this.logger.info('handover requested: stepping aside');
    await this.opts.onHandover();
    return { pid: process.pid };
  }

  /** A socket file left by a dead engine is removed; a live one means we must not start. */
  private async clearStaleSocket(path: string): Promise<void> {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (!st.isSocket()) {
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${path} exists and is not a socket; refusing to replace it`);
    }
    const info = await ping(path, { timeoutMs: 1000 }).catch(() => null);
    if (info) {
      throw new BangerError(ErrorCodes.ENGINE_RUNNING, `an engine is already running (pid ${info.pid}) on ${path}`, {
        details: { pid: info.pid, buildId: info.buildId },
      });
    }
    try {
      unlinkSync(path);
    } catch {
      /* raced with its owner: listen will say */
    }
  }
}

/** The runtime dir must be ours and private; never chmod somebody else's dir (like /tmp). */
function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (st.uid !== uid) {
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `control socket dir ${dir} belongs to uid ${st.uid}, not us (${uid})`,
    );
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}
