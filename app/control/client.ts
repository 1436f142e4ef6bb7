// The engine, seen through its control socket. Implements EngineApi exactly, so screens
// and CLI verbs cannot tell it from the in-process Engine. Errors come back as BangerError
// with the engine's code; a lost connection fails pending calls with E_ENGINE_UNAVAILABLE.
import type { Socket } from 'node:net';
import type { EngineApi, EngineEvent, Unsubscribe } from '../contract/api.js';
import { EngineCalls, SEND_CALL, type EngineMethod } from '../contract/engine-methods.js';
import { BangerError, ErrorCodes, type WireError } from '../base/errors.js';
import { dial, unavailable, type ConnectOptions } from './dial.js';
import {
  LineSplitter,
  MAX_RESPONSE_BYTES,
  PROTOCOL_VERSION,
  encodeLine,
  decodeLine,
  type HelloInfo,
} from './protocol.js';
import type { WireMethod, WireParams, WireRequest, WireResult } from './methods.js';

export { ping, type ConnectOptions } from './dial.js';

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: BangerError) => void;
  timer?: NodeJS.Timeout;
}

/** Calls that end the engine: the connection dropping before the answer means they worked. */
const ENDING_METHODS = new Set(['shutdown', 'handover']);

export class ControlClient extends EngineCalls implements EngineApi {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly consoles = new Map<string, { listeners: Set<(d: Buffer) => void>; ready: Promise<void> }>();
  private readonly closeCallbacks = new Set<(err: BangerError | null) => void>();
  private eventsOnWire = false;
  private isClosed = false;
  private closeReason: BangerError | null = null;
  readonly closed: Promise<void>;
  /** What the engine said in hello: protocol, buildId, pid, mode. */
  hello!: HelloInfo;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    super();
    const splitter = new LineSplitter(
      MAX_RESPONSE_BYTES,
      (l) => this.onLine(l),
      () => {
        this.fail(new BangerError(ErrorCodes.PROTOCOL, 'engine sent an oversized message'));
        socket.destroy();
      },
    );
    socket.on('data', (c: Buffer) => splitter.push(c));
    socket.on('error', (err) => {
      this.closeReason ??= unavailable(socketPath, err);
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.onSocketClose();
        resolve();
      }),
    );
  }

  /** Connect and exchange hello. Nothing listening -> E_ENGINE_UNAVAILABLE. */
  static async connect(socketPath: string, opts: ConnectOptions = {}): Promise<ControlClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const client = new ControlClient(await dial(socketPath, timeoutMs), socketPath);
    try {
      client.hello = await client.call('hello', [], timeoutMs);
    } catch (err) {
      client.socket.destroy();
      throw err;
    }
    if (Math.trunc(client.hello.protocol) !== PROTOCOL_VERSION) {
      client.socket.destroy();
      throw new BangerError(
        ErrorCodes.PROTOCOL,
        `engine pid ${client.hello.pid} speaks protocol ${client.hello.protocol}, this banger speaks ${PROTOCOL_VERSION}`,
        { details: { ...client.hello } },
      );
    }
    return client;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Called once when the connection ends (err null after our own close()). Returns an off switch. */
  onClose(cb: (err: BangerError | null) => void): () => void {
    if (this.isClosed) {
      queueMicrotask(() => cb(this.closeReason));
      return () => {};
    }
    this.closeCallbacks.add(cb);
    return () => this.closeCallbacks.delete(cb);
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.closeReason = null;
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      await this.closed;
      clearTimeout(t);
    }
  }

  /** Liveness check over this connection. */
  ping(): Promise<{ pong: true; pid: number }> {
    return this.call('ping', []);
  }

  /** Ask this engine to stop serving without touching VMs (a newer engine takes over). */
  handover(): Promise<{ pid: number } | null> {
    return this.call('handover', []);
  }

  // ---- EngineApi: every plain call comes from EngineCalls (the contract's method table) ----
  override [SEND_CALL](method: EngineMethod, args: unknown[]): Promise<unknown> {
    if (method === 'sendConsole') args = [args[0], toBytes(args[1] as Buffer | string)];
    const answer = this.call(method, args as WireParams<EngineMethod>);
    // A console tail is always a Buffer, an empty one too.
    return method === 'consoleTail' ? answer.then((r) => (Buffer.isBuffer(r) ? r : Buffer.alloc(0))) : answer;
  }

  /** Synchronous like the engine's; the wire subscription follows the listener count. */
  subscribe(listener: (e: EngineEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    this.syncEventSubscription();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.listeners.delete(listener);
      this.syncEventSubscription();
    };
  }

  async subscribeConsole(name: string, onData: (data: Buffer) => void): Promise<Unsubscribe> {
    let entry = this.consoles.get(name);
    if (!entry) {
      const ready = this.call('subscribeConsole', [name]).then(() => {});
      const created = { listeners: new Set<(d: Buffer) => void>(), ready };
      entry = created;
      this.consoles.set(name, created);
      created.ready.catch(() => {
        if (this.consoles.get(name) === created) this.consoles.delete(name);
      });
    }
    await entry.ready;
    const current = entry;
    current.listeners.add(onData);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.listeners.delete(onData);
      if (current.listeners.size === 0 && this.consoles.get(name) === current) {
        this.consoles.delete(name);
        this.call('unsubscribe', [{ console: name }]).catch(() => {
          /* connection gone: nothing to undo */
        });
      }
    };
  }

  private syncEventSubscription(): void {
    const want = this.listeners.size > 0;
    if (want === this.eventsOnWire || this.isClosed) return;
    this.eventsOnWire = want;
    // Lines are handled in order on the server, so subscribe/unsubscribe cannot cross.
    const sent = want ? this.call('subscribe', []) : this.call('unsubscribe', [{ events: true }]);
    sent.catch(() => {
      if (want) this.eventsOnWire = false;
    });
  }

  private call<M extends WireMethod>(method: M, args: WireParams<M>, timeoutMs?: number): Promise<WireResult<M>> {
    if (this.isClosed) {
      return Promise.reject(
        this.closeReason ?? new BangerError(ErrorCodes.ENGINE_UNAVAILABLE, 'the engine connection is closed'),
      );
    }
    // Trailing undefined would become null on the wire; just leave it out.
    const params: unknown[] = [...args];
    while (params.length > 0 && params[params.length - 1] === undefined) params.pop();
    const id = this.nextId++;
    const request: WireRequest<M> = { v: PROTOCOL_VERSION, id, method, params: params as WireParams<M> };
    return new Promise<WireResult<M>>((resolve, reject) => {
      const p: Pending = { method, resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new BangerError(ErrorCodes.TIMEOUT, `engine did not answer ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.socket.write(encodeLine(request));
    });
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = decodeLine(line) as Record<string, unknown>;
    } catch {
      return; // a garbled line from the engine: nothing sensible to route it to
    }
    if (!msg || typeof msg !== 'object') return;
    if ('event' in msg) {
      for (const l of [...this.listeners]) safely(() => l(msg.event as EngineEvent));
      return;
    }
    if (typeof msg.console === 'string') {
      const entry = this.consoles.get(msg.console);
      if (entry && typeof msg.data === 'string') {
        const data = Buffer.from(msg.data, 'base64');
        for (const l of [...entry.listeners]) safely(() => l(data));
      }
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok === true) p.resolve(msg.result);
    else
      p.reject(
        BangerError.fromWire(
          (msg.error as WireError) ?? { code: ErrorCodes.PROTOCOL, message: 'malformed error from engine' },
        ),
      );
  }

  private fail(err: BangerError): void {
    this.closeReason ??= err;
  }

  private onSocketClose(): void {
    this.isClosed = true;
    const reason =
      this.closeReason ?? new BangerError(ErrorCodes.ENGINE_UNAVAILABLE, 'the engine connection is closed');
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (ENDING_METHODS.has(p.method)) p.resolve(null);
      else p.reject(reason);
    }
    this.listeners.clear();
    this.consoles.clear();
    for (const cb of [...this.closeCallbacks]) safely(() => cb(this.closeReason));
    this.closeCallbacks.clear();
  }
}

function toBytes(data: Buffer | string): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a listener's bug must not break the connection */
  }
}
