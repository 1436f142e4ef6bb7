// One connected client on the server side: parses its request lines, calls the engine,
// writes responses, and owns that client's event and console subscriptions so they all
// end with the connection.
import type { Socket } from 'node:net';
import type { EngineApi, Unsubscribe } from '../contract/api.js';
import { BangerError, ErrorCodes, toBangerError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { callEngine, ENGINE_METHOD_SET, vmName, type EngineMethod, type WirePush } from './methods.js';
import {
  LineSplitter,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  VERSIONLESS_METHODS,
  encodeLine,
  decodeLine,
  type HelloInfo,
  type WireResponse,
} from './protocol.js';

/** A client that cannot keep up with pushes is dropped rather than buffered without end. */
const MAX_PENDING_WRITE = 16 * 1024 * 1024;

export interface SessionHost {
  engine: EngineApi;
  logger: Logger;
  hello(): HelloInfo;
  /** Server is closing: refuse new work. */
  readonly closing: boolean;
  handover(): Promise<unknown>;
}

interface ConsoleSub {
  unsub: Unsubscribe | null;
  cancelled: boolean;
}

export class Session {
  private readonly splitter: LineSplitter;
  private eventsUnsub: Unsubscribe | null = null;
  private readonly consoles = new Map<string, ConsoleSub>();
  private inflight = 0;
  /** Requests (shutdown, handover) that will tear the server down; see ControlServer.close. */
  private selfEnding = 0;
  private endWhenIdle = false;
  readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly host: SessionHost,
  ) {
    this.splitter = new LineSplitter(
      MAX_REQUEST_BYTES,
      (l) => this.onLine(l),
      (bytes) => this.onOversize(bytes),
    );
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (c: Buffer) => this.splitter.push(c));
    socket.on('error', (err) => this.host.logger.debug('control client error', { err: err.message }));
    socket.once('close', () => this.dropSubscriptions());
  }

  /** True while a request that shuts the server down is being answered. */
  get isSelfEnding(): boolean {
    return this.selfEnding > 0;
  }

  /** End after in-flight responses are written (close() calls this). */
  endGracefully(): void {
    this.dropSubscriptions();
    this.endWhenIdle = true;
    if (this.inflight === 0) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onOversize(bytes: number): void {
    this.sendError(
      null,
      new BangerError(
        ErrorCodes.PROTOCOL,
        `request too large: more than ${MAX_REQUEST_BYTES} bytes without a newline`,
        { details: { bytes, max: MAX_REQUEST_BYTES } },
      ),
    );
    // The rest of the stream cannot be framed any more, so this connection is done.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = decodeLine(line);
    } catch (err) {
      this.sendError(null, new BangerError(ErrorCodes.PROTOCOL, `malformed JSON: ${(err as Error).message}`));
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      this.sendError(null, new BangerError(ErrorCodes.PROTOCOL, 'malformed request: expected a JSON object'));
      return;
    }
    const req = msg as Record<string, unknown>;
    const id = typeof req.id === 'number' && Number.isSafeInteger(req.id) ? req.id : null;
    if (id === null)
      return this.sendError(null, new BangerError(ErrorCodes.PROTOCOL, 'malformed request: "id" must be an integer'));
    if (typeof req.method !== 'string')
      return this.sendError(id, new BangerError(ErrorCodes.PROTOCOL, 'malformed request: "method" must be a string'));
    const method = req.method;
    if (!VERSIONLESS_METHODS.has(method) && !(typeof req.v === 'number' && Math.trunc(req.v) === PROTOCOL_VERSION)) {
      return this.sendError(
        id,
        new BangerError(
          ErrorCodes.PROTOCOL,
          `protocol version ${JSON.stringify(req.v ?? null)} is not supported (this engine speaks ${PROTOCOL_VERSION})`,
          { details: { supported: PROTOCOL_VERSION } },
        ),
      );
    }
    if (req.params !== undefined && !Array.isArray(req.params)) {
      return this.sendError(id, new BangerError(ErrorCodes.PROTOCOL, 'malformed request: "params" must be an array'));
    }
    // JSON has no undefined: a null argument means "not given".
    const params = ((req.params as unknown[] | undefined) ?? []).map((p) => (p === null ? undefined : p));
    if (this.host.closing && method !== 'hello' && method !== 'ping') {
      return this.sendError(id, new BangerError(ErrorCodes.ENGINE_UNAVAILABLE, 'the engine is shutting down'));
    }
    this.dispatch(id, method, params);
  }

  private dispatch(id: number, method: string, params: unknown[]): void {
    switch (method) {
      case 'hello':
        return this.sendResult(id, this.host.hello());
      case 'ping':
        return this.sendResult(id, { pong: true, pid: process.pid });
      case 'handover':
        return this.track(id, () => this.host.handover(), true);
      case 'subscribe':
        if (!this.eventsUnsub) this.eventsUnsub = this.host.engine.subscribe((event) => this.push({ event }));
        return this.sendResult(id, null);
      case 'subscribeConsole':
        return this.subscribeConsole(id, params[0]);
      case 'unsubscribe':
        return this.unsubscribe(id, params[0]);
    }
    if (!ENGINE_METHOD_SET.has(method)) {
      return this.sendError(
        id,
        new BangerError(ErrorCodes.PROTOCOL, `unknown method: ${method}`, { details: { method } }),
      );
    }
    // Params are checked (and typed) by the method's validator before the engine sees them.
    this.track(id, () => callEngine(this.host.engine, method as EngineMethod, params), method === 'shutdown');
  }

  /** Run an async call and answer it; keeps the count close() waits on. */
  private track(id: number, fn: () => Promise<unknown>, selfEnding: boolean): void {
    this.inflight++;
    if (selfEnding) this.selfEnding++;
    Promise.resolve()
      .then(fn)
      .then(
        (result) => this.sendResult(id, result ?? null),
        (err) => this.sendError(id, err),
      )
      .finally(() => {
        this.inflight--;
        if (selfEnding) this.selfEnding--;
        if (this.endWhenIdle && this.inflight === 0) this.socket.end();
      });
  }

  private subscribeConsole(id: number, raw: unknown): void {
    let name: string;
    try {
      name = vmName(raw);
    } catch (err) {
      return this.sendError(id, err);
    }
    if (this.consoles.has(name)) return this.sendResult(id, null);
    const sub: ConsoleSub = { unsub: null, cancelled: false };
    this.consoles.set(name, sub);
    this.track(
      id,
      async () => {
        try {
          const unsub = await this.host.engine.subscribeConsole(name, (data) => {
            if (!sub.cancelled) this.push({ console: name, data: data.toString('base64') });
          });
          // Unsubscribed (or disconnected) while the engine was still setting up.
          if (sub.cancelled) unsub();
          else sub.unsub = unsub;
        } catch (err) {
          if (this.consoles.get(name) === sub) this.consoles.delete(name);
          throw err;
        }
        return null;
      },
      false,
    );
  }

  private unsubscribe(id: number, what: unknown): void {
    const target = what && typeof what === 'object' ? (what as Record<string, unknown>) : {};
    if (typeof target.console === 'string') this.dropConsole(target.console);
    else if (this.eventsUnsub) {
      this.eventsUnsub();
      this.eventsUnsub = null;
    }
    this.sendResult(id, null);
  }

  private dropConsole(name: string): void {
    const sub = this.consoles.get(name);
    if (!sub) return;
    this.consoles.delete(name);
    sub.cancelled = true;
    sub.unsub?.();
  }

  private dropSubscriptions(): void {
    if (this.eventsUnsub) {
      this.eventsUnsub();
      this.eventsUnsub = null;
    }
    for (const name of [...this.consoles.keys()]) this.dropConsole(name);
  }

  private push(msg: WirePush): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.socket.writableLength > MAX_PENDING_WRITE) {
      this.host.logger.warn('control client too slow, dropping it', { pending: this.socket.writableLength });
      this.socket.destroy();
      return;
    }
    this.write(msg);
  }

  private sendResult(id: number, result: unknown): void {
    this.write({ id, ok: true, result } satisfies WireResponse);
  }

  private sendError(id: number | null, err: unknown): void {
    const be = toBangerError(err);
    if (be.code === ErrorCodes.INTERNAL)
      this.host.logger.error('control request failed', {
        err: be.message,
        cause: String((be.cause as Error)?.stack ?? be.cause),
      });
    this.write({ id, ok: false, error: be.toWire() } satisfies WireResponse);
  }

  private write(msg: unknown): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    let line: string;
    try {
      line = encodeLine(msg);
    } catch (err) {
      // A result that cannot be serialised (a cycle, a BigInt) is our bug, not the client's.
      const id = (msg as { id?: number | null }).id ?? null;
      line = encodeLine({
        id,
        ok: false,
        error: new BangerError(ErrorCodes.INTERNAL, `cannot encode response: ${(err as Error).message}`).toWire(),
      });
    }
    this.socket.write(line);
  }
}
