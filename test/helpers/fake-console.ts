// Serial consoles for the fake engine: what the guest wrote (kept for consoleTail), live
// subscribers, and input that is either echoed raw (protocol tests check bytes) or handled like a
// cooked-mode tty with a tiny shell (screen tests type into it).
export type EchoMode = 'tty' | 'raw';

export class FakeConsole {
  readonly sent: { name: string; data: Buffer }[] = [];
  private readonly written = new Map<string, Buffer[]>();
  private readonly listeners = new Map<string, Set<(d: Buffer) => void>>();
  private readonly lines = new Map<string, string>();

  constructor(private readonly echo: EchoMode) {}

  listenerCount(name: string): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  out(name: string, data: Buffer | string): void {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const chunks = this.written.get(name) ?? [];
    chunks.push(buf);
    this.written.set(name, chunks);
    for (const l of [...(this.listeners.get(name) ?? [])]) l(buf);
  }

  boot(name: string): void {
    this.out(name, `\x1b[1mbanger fake firmware\x1b[0m booting ${name}...\r\n`);
  }

  booted(name: string, ip: string): void {
    this.out(
      name,
      `[    0.000000] Linux version 6.1.0 (fake)\r\n[    0.120000] \x1b[32mOK\x1b[0m eth0 up ${ip}\r\n` +
        `Welcome to ${name}\r\n${name} login: root (automatic)\r\n# `,
    );
  }

  tail(name: string, maxBytes: number): Buffer {
    const all = Buffer.concat(this.written.get(name) ?? []);
    return all.subarray(Math.max(0, all.length - maxBytes));
  }

  subscribe(name: string, onData: (d: Buffer) => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(onData);
    this.listeners.set(name, set);
    return () => {
      set.delete(onData);
    };
  }

  forget(name: string): void {
    this.written.delete(name);
    this.lines.delete(name);
  }

  input(name: string, data: Buffer | string): void {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.sent.push({ name, data: buf });
    if (this.echo === 'raw') return this.out(name, buf);
    for (const ch of buf.toString('utf8')) this.cooked(name, ch);
  }

  private cooked(name: string, ch: string): void {
    const line = this.lines.get(name) ?? '';
    if (ch === '\r' || ch === '\n') {
      this.lines.set(name, '');
      const reply = line.startsWith('echo ') ? `${line.slice(5)}\r\n` : line ? `sh: ${line}: not found\r\n` : '';
      this.out(name, `\r\n${reply}# `);
    } else if (ch === '\x7f') {
      if (!line) return;
      this.lines.set(name, line.slice(0, -1));
      this.out(name, '\b \b');
    } else {
      this.lines.set(name, line + ch);
      this.out(name, ch);
    }
  }
}
