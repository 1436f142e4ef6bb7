// Modal dialogs. The app routes every key to the top modal first, so dialogs handle raw
// (ch, key) themselves and never depend on blessed's focus rules.
import blessed from 'blessed';
import { escapeTags } from '../present/rows.js';
import { keyName, type KeyEventLike } from '../keys.js';
import type { Theme } from '../present/colors.js';

export interface Modal {
  /** Return true when the key was used. */
  handleKey(ch: string | undefined, key: KeyEventLike & { sequence?: string }): boolean;
  destroy(): void;
  relayout?(): void;
}

function dialogBox(
  screen: blessed.Widgets.Screen,
  theme: Theme,
  label: string,
  lines: string[],
  width: number,
): blessed.Widgets.BoxElement {
  const w = Math.min((screen.width as number) - 2, Math.max(width, label.length + 6));
  const h = Math.min((screen.height as number) - 2, lines.length + 2);
  return blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: w,
    height: h,
    tags: true,
    label: ` ${escapeTags(label)} `,
    border: { type: 'line' },
    content: lines.join('\n'),
    style: { border: { fg: theme.border }, label: { bold: true } },
    padding: { left: 1, right: 1 },
  });
}

/** A message (error or info), dismissed with Enter/Esc/q/Space. */
export class MessageDialog implements Modal {
  private box: blessed.Widgets.BoxElement;
  constructor(
    screen: blessed.Widgets.Screen,
    theme: Theme,
    title: string,
    message: string,
    private onClose: () => void,
    kind: 'error' | 'info' = 'error',
  ) {
    const color = kind === 'error' ? 'red' : theme.accent;
    const lines = wrap(message, Math.min(70, (screen.width as number) - 8)).map(
      (l) => `{${color}-fg}${escapeTags(l)}{/${color}-fg}`,
    );
    lines.push('', '{bold}Enter{/bold}/{bold}Esc{/bold} dismiss');
    this.box = dialogBox(screen, theme, title, lines, Math.max(...lines.map((l) => l.length)) + 4);
  }
  handleKey(ch: string | undefined, key: KeyEventLike): boolean {
    const k = keyName(ch, key);
    if (k === 'enter' || k === 'escape' || k === 'q' || k === ' ') {
      this.onClose();
      return true;
    }
    return true; // swallow everything else while shown
  }
  destroy(): void {
    this.box.destroy();
  }
}

export interface Choice<T> {
  key: string;
  label: string;
  value: T;
}

/** A question with single-key answers; Esc cancels (value null). */
export class ChoiceDialog<T> implements Modal {
  private box: blessed.Widgets.BoxElement;
  constructor(
    screen: blessed.Widgets.Screen,
    theme: Theme,
    title: string,
    question: string,
    private choices: Choice<T>[],
    private onAnswer: (v: T | null) => void,
  ) {
    const lines = wrap(question, Math.min(70, (screen.width as number) - 8)).map(escapeTags);
    lines.push('');
    for (const c of choices)
      lines.push(
        `  {bold}{${theme.accent}-fg}${escapeTags(c.key)}{/${theme.accent}-fg}{/bold}  ${escapeTags(c.label)}`,
      );
    lines.push(`  {bold}{${theme.accent}-fg}Esc{/${theme.accent}-fg}{/bold}  cancel`);
    // Width from the visible text (tags excluded), else blessed re-wraps the question.
    this.box = dialogBox(screen, theme, title, lines, Math.max(50, ...lines.map((l) => visibleWidth(l) + 4)));
  }
  handleKey(ch: string | undefined, key: KeyEventLike): boolean {
    const k = keyName(ch, key);
    if (k === 'escape') {
      this.onAnswer(null);
      return true;
    }
    const c = this.choices.find((x) => x.key === k);
    if (c) this.onAnswer(c.value);
    return true;
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** Yes/no confirmation built on ChoiceDialog. */
export function confirmDialog(
  screen: blessed.Widgets.Screen,
  theme: Theme,
  title: string,
  question: string,
  onAnswer: (yes: boolean) => void,
): Modal {
  return new ChoiceDialog<boolean>(
    screen,
    theme,
    title,
    question,
    [
      { key: 'y', label: 'yes', value: true },
      { key: 'n', label: 'no', value: false },
    ],
    (v) => onAnswer(v === true),
  );
}

/** A scrollable text overlay (help, VM details); Esc/q/? closes. */
export class TextOverlay implements Modal {
  private box: blessed.Widgets.BoxElement;
  private scroll = 0;
  constructor(
    private screen: blessed.Widgets.Screen,
    theme: Theme,
    title: string,
    private lines: string[],
    private onClose: () => void,
  ) {
    this.box = blessed.box({
      parent: screen,
      top: 'center',
      left: 'center',
      width: '80%',
      height: '80%',
      tags: true,
      label: ` ${escapeTags(title)} `,
      border: { type: 'line' },
      padding: { left: 1, right: 1 },
      style: { border: { fg: theme.border }, label: { bold: true } },
    });
    this.draw();
  }
  private draw(): void {
    const h = Math.max(1, (this.box.height as number) - 2);
    const lines = columnize(this.lines, h, Math.max(1, (this.box.width as number) - 4));
    this.scroll = Math.max(0, Math.min(this.scroll, lines.length - h));
    this.box.setContent(lines.slice(this.scroll, this.scroll + h).join('\n'));
  }
  relayout(): void {
    this.draw();
  }
  handleKey(ch: string | undefined, key: KeyEventLike): boolean {
    const k = keyName(ch, key);
    if (k === 'escape' || k === 'q' || k === '?' || k === 'enter') {
      this.onClose();
      return true;
    }
    const h = Math.max(1, (this.box.height as number) - 2);
    if (k === 'down' || k === 'j') this.scroll++;
    else if (k === 'up' || k === 'k') this.scroll--;
    else if (k === 'pagedown' || k === ' ') this.scroll += h;
    else if (k === 'pageup') this.scroll -= h;
    this.draw();
    void this.screen;
    return true;
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** Word-wrap plain text to `width` columns. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/)) {
      if (!word) continue;
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = '';
      }
      line = line ? `${line} ${word}` : word;
      while (line.length > width) {
        out.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
    out.push(line);
  }
  return out;
}

/** Columns a tagged line takes on screen. */
function visibleWidth(t: string): number {
  return t.replace(/\{(open|close)\}/g, 'x').replace(/\{\/?[\w\-,;!#]*\}/g, '').length;
}

/** Lay tagged lines out in two columns when they overflow `height` and the width allows. */
export function columnize(lines: string[], height: number, width: number): string[] {
  if (lines.length <= height) return lines;
  const vis = visibleWidth;
  const colW = Math.max(...lines.map(vis)) + 3;
  if (colW * 2 > width) return lines;
  const half = Math.ceil(lines.length / 2);
  const out: string[] = [];
  for (let i = 0; i < half; i++) {
    const left = lines[i]!;
    const right = lines[half + i] ?? '';
    out.push(left + ' '.repeat(Math.max(0, colW - vis(left))) + right);
  }
  return out;
}
