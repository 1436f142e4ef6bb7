// The control socket's wire format, shared by the server and the client: one JSON object
// per line. Requests carry a protocol version and an id; responses echo the id; pushes
// (events, console bytes) carry no id. Buffers travel as {"$base64": "..."} so records,
// errors and bytes all fit the same line format. What each method carries: methods.ts.
import type { EngineStatus } from '../contract/api.js';
import type { WireError } from '../base/errors.js';

export const PROTOCOL_VERSION = 1;
/**
 * A request line longer than this is refused and its connection closed. A vm create carries
 * up to 1 MiB of user-data (JSON-escaped: up to about twice that) and its SSH keys.
 */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;
/** Responses can be big (console tails, long lists), but not unbounded. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Answered whatever version the caller speaks, so any binary can find and retire any engine. */
export const VERSIONLESS_METHODS: ReadonlySet<string> = new Set(['hello', 'ping', 'handover']);

export interface HelloInfo {
  protocol: number;
  buildId: string;
  pid: number;
  mode: EngineStatus['mode'];
}

export type WireResponse =
  { id: number | null; ok: true; result: unknown } | { id: number | null; ok: false; error: WireError };

/** Serialise one message as a line; Buffers become {"$base64": ...}. */
export function encodeLine(msg: unknown): string {
  return (
    JSON.stringify(msg, function (this: Record<string, unknown>, key: string, value: unknown) {
      // JSON.stringify has already called Buffer#toJSON on `value`; the holder keeps the original.
      const raw = this[key];
      if (Buffer.isBuffer(raw)) return { $base64: raw.toString('base64') };
      if (raw instanceof Uint8Array) return { $base64: Buffer.from(raw).toString('base64') };
      return value;
    }) + '\n'
  );
}

/** Parse one line; {"$base64": ...} becomes a Buffer again. Throws SyntaxError on bad JSON. */
export function decodeLine(line: string): unknown {
  return JSON.parse(line, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      if (typeof o.$base64 === 'string' && Object.keys(o).length === 1) return Buffer.from(o.$base64, 'base64');
    }
    return value;
  });
}

/**
 * Splits a byte stream into lines without decoding partial UTF-8. Calls onOverflow (once)
 * when a line grows past `max` bytes; the caller decides whether to drop the connection.
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(
    private readonly max: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.overflowed) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      if (this.size + piece.length > this.max) return this.overflow(this.size + piece.length);
      const line = this.size === 0 ? piece : Buffer.concat([...this.chunks, piece]);
      this.chunks = [];
      this.size = 0;
      start = nl + 1;
      const text = line.toString('utf8').trim();
      if (text) this.onLine(text);
      if (this.overflowed) return;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.size + rest.length > this.max) return this.overflow(this.size + rest.length);
      this.chunks.push(rest);
      this.size += rest.length;
    }
  }

  private overflow(bytes: number): void {
    this.overflowed = true;
    this.chunks = [];
    this.size = 0;
    this.onOverflow(bytes);
  }
}
