// Serial console bytes -> a headless xterm -> blessed-tagged lines. The terminal emulator does
// the hard parts (carriage returns, cursor moves, SGR state across chunks); we only read cells.
import xtermHeadless from '@xterm/headless';
import type { IBufferCell, IBufferLine, Terminal as TerminalType } from '@xterm/headless';
import { DEFAULT_STYLE, sameStyle, styleTags, type CellStyle, type ColorRef } from './colors.js';
import { escapeTags } from './rows.js';

const { Terminal } = xtermHeadless as unknown as { Terminal: typeof TerminalType };

function colorOf(cell: IBufferCell, which: 'fg' | 'bg'): ColorRef {
  if (which === 'fg') {
    if (cell.isFgDefault()) return { kind: 'default' };
    if (cell.isFgRGB()) return { kind: 'rgb', rgb: cell.getFgColor() };
    return { kind: 'palette', index: cell.getFgColor() };
  }
  if (cell.isBgDefault()) return { kind: 'default' };
  if (cell.isBgRGB()) return { kind: 'rgb', rgb: cell.getBgColor() };
  return { kind: 'palette', index: cell.getBgColor() };
}

function styleOf(cell: IBufferCell): CellStyle {
  return {
    fg: colorOf(cell, 'fg'),
    bg: colorOf(cell, 'bg'),
    bold: cell.isBold() !== 0,
    underline: cell.isUnderline() !== 0,
    inverse: cell.isInverse() !== 0,
  };
}

/** One buffer line as blessed tags, with trailing blanks trimmed. */
export function lineToTags(line: IBufferLine, cols: number, scratch?: IBufferCell): string {
  let out = '';
  let run = '';
  let style = DEFAULT_STYLE;
  let cell = scratch;
  const flush = () => {
    if (!run) return;
    const t = styleTags(style);
    out += t.open + escapeTags(run) + t.close;
    run = '';
  };
  // Trim trailing default blanks so lines do not carry a wall of spaces.
  let last = Math.min(cols, line.length) - 1;
  for (; last >= 0; last--) {
    cell = line.getCell(last, cell);
    if (!cell) break;
    const ch = cell.getChars();
    if ((ch !== '' && ch !== ' ') || !cell.isBgDefault() || cell.isInverse()) break;
  }
  for (let x = 0; x <= last; x++) {
    cell = line.getCell(x, cell);
    if (!cell || cell.getWidth() === 0) continue; // second half of a wide char
    const s = styleOf(cell);
    if (!sameStyle(s, style)) {
      flush();
      style = s;
    }
    run += cell.getChars() || ' ';
  }
  flush();
  return out;
}

/** A console view model: feed it bytes, ask for the visible lines at a scroll offset. */
export class ConsoleModel {
  readonly term: TerminalType;
  private pending: Promise<void> = Promise.resolve();

  constructor(cols: number, rows: number, scrollback = 5000) {
    this.term = new Terminal({ cols: Math.max(2, cols), rows: Math.max(1, rows), scrollback, allowProposedApi: true });
  }

  /** Writes are parsed asynchronously by xterm; the promise resolves once parsed. */
  write(data: Buffer | string): Promise<void> {
    const chunk = typeof data === 'string' ? data : new Uint8Array(data);
    this.pending = new Promise<void>((resolve) => this.term.write(chunk, resolve));
    return this.pending;
  }

  flushed(): Promise<void> {
    return this.pending;
  }

  resize(cols: number, rows: number): void {
    const c = Math.max(2, cols);
    const r = Math.max(1, rows);
    if (c !== this.term.cols || r !== this.term.rows) this.term.resize(c, r);
  }

  /** Lines scrolled back from the live bottom the view may go. */
  get maxScroll(): number {
    return this.term.buffer.active.baseY;
  }

  /** The `rows` lines ending `scroll` lines above the live screen. */
  visibleLines(scroll: number): string[] {
    const buf = this.term.buffer.active;
    const top = Math.max(0, buf.baseY - Math.max(0, Math.min(scroll, buf.baseY)));
    const out: string[] = [];
    const scratch = buf.getNullCell();
    for (let y = top; y < top + this.term.rows; y++) {
      const line = buf.getLine(y);
      out.push(line ? lineToTags(line, this.term.cols, scratch) : '');
    }
    return out;
  }

  /** Plain text of the whole buffer (tests, copy). */
  plainText(): string {
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < buf.length; y++) out.push(buf.getLine(y)?.translateToString(true) ?? '');
    return out.join('\n').replace(/\n+$/, '');
  }

  dispose(): void {
    this.term.dispose();
  }
}
