// A tiny QMP client over QEMU's Unix socket: newline-delimited JSON, a greeting, then
// qmp_capabilities, then commands tagged with an id. QEMU's QMP chardev serves one client at a
// time, so callers use short-lived connections (withQmp) rather than holding one open.
import { createConnection, type Socket } from 'node:net';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpStatus {
  status: string;
  running: boolean;
  singlestep?: boolean;
}

export interface QmpConnectOptions {
  /** Connect + greeting + capabilities must finish within this. Default 2000 ms. */
  timeoutMs?: number;
  /** Default per-command timeout. Default 5000 ms. */
  commandTimeoutMs?: number;
  onEvent?: (e: QmpEvent) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  command: string;
}

const CTRL_ALT_DELETE = ['ctrl', 'alt', 'delete'].map((data) => ({ type: 'qcode', data }));

export class QmpClient {
  readonly events: QmpEvent[] = [];
  private buf = '';
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private closedError: BangerError | null = null;
  private greetingWaiter: { resolve: (g: QmpGreeting) => void; reject: (e: Error) => void } | null = null;
  // Created up front so a greeting that arrives early is never lost.
  private readonly greetingP: Promise<QmpGreeting>;
  greeting: QmpGreeting | null = null;

  private constructor(
    private readonly sock: Socket,
    readonly path: string,
    private readonly o: QmpConnectOptions,
  ) {
    this.greetingP = new Promise<QmpGreeting>((resolve, reject) => {
      this.greetingWaiter = { resolve, reject };
    });
    this.greetingP.catch(() => {
      /* surfaced through connect() */
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('error', (err) =>
      this.fail(new BangerError(ErrorCodes.VMM, `QMP ${path}: ${err.message}`, { cause: err })),
    );
    sock.on('close', () => this.fail(new BangerError(ErrorCodes.VMM, `QMP ${path}: connection closed`)));
  }

  /** Connect, read the greeting and negotiate capabilities. */
  static async connect(path: string, o: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = o.timeoutMs ?? 2000;
    const sock = createConnection({ path });
    const c = new QmpClient(sock, path, o);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          await new Promise<void>((resolve, reject) => {
            sock.once('connect', resolve);
            sock.once('error', (err) =>
              reject(
                new BangerError(ErrorCodes.VMM, `cannot connect to QMP socket ${path}: ${err.message}`, { cause: err }),
              ),
            );
          });
          c.greeting = await c.greetingP;
          await c.execute('qmp_capabilities', undefined, { timeoutMs });
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new BangerError(ErrorCodes.TIMEOUT, `QMP ${path}: no greeting within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      c.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return c;
  }

  /** Run one command; resolves with its "return" value, rejects with E_VMM on a QMP error. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = `banger-${this.nextId++}`;
    const timeoutMs = opts.timeoutMs ?? this.o.commandTimeoutMs ?? 5000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BangerError(ErrorCodes.TIMEOUT, `QMP ${command}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, command });
      this.sock.write(
        JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id }) + '\n',
      );
    });
  }

  queryStatus(): Promise<QmpStatus> {
    return this.execute<QmpStatus>('query-status');
  }

  /** The Ctrl-Alt-Del chord on the i8042 keyboard; the guest's init decides what it means. */
  async sendCtrlAltDel(): Promise<void> {
    await this.execute('send-key', { keys: CTRL_ALT_DELETE });
  }

  /** Ask QEMU to exit. It may close the socket right after answering: that counts as success. */
  async quit(): Promise<void> {
    try {
      await this.execute('quit');
    } catch (err) {
      if (err instanceof BangerError && err.code === ErrorCodes.VMM && /connection closed/.test(err.message)) return;
      throw err;
    }
  }

  close(): void {
    this.fail(new BangerError(ErrorCodes.VMM, `QMP ${this.path}: connection closed`));
    this.sock.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line);
    } catch {
      this.fail(new BangerError(ErrorCodes.PROTOCOL, `QMP ${this.path}: not JSON: ${line.slice(0, 200)}`));
      this.sock.destroy();
      return;
    }
    if ('QMP' in m) {
      this.greetingWaiter?.resolve(m.QMP as QmpGreeting);
      this.greetingWaiter = null;
      return;
    }
    if ('event' in m) {
      const e = m as unknown as QmpEvent;
      this.events.push(e);
      if (this.events.length > 100) this.events.shift();
      this.o.onEvent?.(e);
      return;
    }
    const id = typeof m.id === 'string' ? m.id : null;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return; // an answer nobody waits for any more (timed out)
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in m) {
      const e = m.error as { class?: string; desc?: string };
      p.reject(
        new BangerError(ErrorCodes.VMM, `QMP ${p.command}: ${e.class ?? 'Error'}: ${e.desc ?? 'unknown error'}`, {
          details: { qmpClass: e.class },
        }),
      );
    } else {
      p.resolve(m.return);
    }
  }

  private fail(err: BangerError): void {
    if (this.closedError) return;
    this.closedError = err;
    this.greetingWaiter?.reject(err);
    this.greetingWaiter = null;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/** Connect, run fn, always close. */
export async function withQmp<T>(
  path: string,
  fn: (c: QmpClient) => Promise<T>,
  o: QmpConnectOptions = {},
): Promise<T> {
  const c = await QmpClient.connect(path, o);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
