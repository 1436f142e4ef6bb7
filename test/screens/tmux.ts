// Drive a full-screen program in a real terminal: tmux runs it detached, we type with
// send-keys and read the screen with capture-pane. Captures go to test-artifacts/ on failure.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** The command under test: env BANGER_TUI_CMD, else the fake-engine launcher. */
export function tuiCommand(): string {
  return process.env.BANGER_TUI_CMD ?? 'node --import tsx test/screens/fixtures/run-fake-tui.ts';
}

// A tmux server of our own (not the user's default one): the tests neither see nor touch the
// sessions of the person running them, nor of another test run, and it goes away with us.
const SOCKET = `banger-test-${process.pid}`;
let serverStarted = false;

function tmux(...args: string[]): string {
  if (args[0] === 'new-session' && !serverStarted) {
    serverStarted = true;
    process.once('exit', () => {
      try {
        execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    });
  }
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class TmuxSession {
  private captures: { label: string; text: string }[] = [];

  private constructor(readonly name: string) {}

  /** Start `cmd` in a detached session; the pane stays after exit and prints "[exited N]". */
  static start(
    name: string,
    cmd: string,
    opts: { width?: number; height?: number; env?: Record<string, string>; cwd?: string } = {},
  ): TmuxSession {
    try {
      tmux('kill-session', '-t', name);
    } catch {
      /* not running */
    }
    const env = { TERM: 'xterm-256color', ...opts.env };
    const exports = Object.entries(env)
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join(' ');
    const script = `cd ${shellQuote(opts.cwd ?? process.cwd())} && env ${exports} ${cmd}; echo "[exited $?]"; sleep 600`;
    tmux('new-session', '-d', '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 35), '-s', name, script);
    return new TmuxSession(name);
  }

  /** tmux key names (Enter, Escape, C-], Tab, PageUp...) or literal single chars. */
  keys(...keys: string[]): void {
    tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Literal text, no key-name interpretation. */
  type(text: string): void {
    tmux('send-keys', '-t', this.name, '-l', text);
  }

  capture(): string {
    return tmux('capture-pane', '-p', '-t', this.name);
  }

  resize(width: number, height: number): void {
    tmux('resize-window', '-t', this.name, '-x', String(width), '-y', String(height));
  }

  /** Poll the screen until `pred` holds; throws (after saving the capture) on timeout. */
  async waitFor(
    what: string | RegExp | ((screen: string) => boolean),
    timeoutMs = 5000,
    label?: string,
  ): Promise<string> {
    const test =
      typeof what === 'function'
        ? what
        : typeof what === 'string'
          ? (s: string) => s.includes(what)
          : (s: string) => what.test(s);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = this.capture();
      if (test(last)) {
        this.captures.push({ label: label ?? String(what), text: last });
        return last;
      }
      if (Date.now() > deadline) {
        const file = this.save(`timeout-${label ?? 'wait'}`, last);
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${label ?? String(what)}; screen saved to ${file}:\n${last}`,
        );
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  /** Write a capture under test-artifacts/ and return its path. */
  save(label: string, text = this.capture()): string {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${this.name}-${label.replace(/[^\w.-]+/g, '_').slice(0, 60)}.txt`);
    writeFileSync(file, text);
    return file;
  }

  /** Save every capture taken so far (call on failure). */
  saveAll(): void {
    this.captures.forEach((c, i) => this.save(`${String(i).padStart(2, '0')}-${c.label}`, c.text));
    try {
      this.save('final');
    } catch {
      /* session gone */
    }
  }

  kill(): void {
    try {
      tmux('kill-session', '-t', this.name);
    } catch {
      /* already gone */
    }
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
