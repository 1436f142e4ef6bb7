// A virtualised table: the caller keeps the full list, this widget hands blessed only the
// rows that fit (blessed's cost grows with content, so 1,000 rows must never reach it).
import blessed from 'blessed';
import { clampViewport, moveSelection, type Viewport } from './viewport.js';
import type { Theme } from '../present/colors.js';

export interface VTableSource {
  count(): number;
  /** Row i as tagged text of at most `width` visible columns. */
  row(i: number, width: number): string;
  header(width: number): string;
  /** Shown when count() is 0. */
  empty?: string;
}

export class VTable {
  readonly box: blessed.Widgets.BoxElement;
  vp: Viewport = { selected: 0, offset: 0 };
  /** An inactive table (another one on the screen has the keys) shows no selection bar. */
  active = true;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly source: VTableSource,
    private readonly theme: Theme,
    pos: { top: number | string; left?: number | string; width?: number | string; height: number | string },
  ) {
    this.box = blessed.box({
      parent,
      top: pos.top,
      left: pos.left ?? 0,
      width: pos.width ?? '100%',
      height: pos.height,
      tags: true,
      wrap: false,
      style: { fg: 'default' },
    });
  }

  /** Visible data rows (one line is the header). */
  get rows(): number {
    return Math.max(1, (this.box.height as number) - 1);
  }

  get width(): number {
    return Math.max(1, this.box.width as number);
  }

  move(delta: number): void {
    this.vp = moveSelection(this.vp, delta, this.source.count(), this.rows);
  }
  select(i: number): void {
    this.vp = clampViewport({ ...this.vp, selected: i }, this.source.count(), this.rows);
  }
  get selected(): number {
    return this.vp.selected;
  }

  /** Rebuild the content from the visible window only. */
  update(): void {
    const total = this.source.count();
    this.vp = clampViewport(this.vp, total, this.rows);
    const w = this.width;
    const lines = [`{bold}{${this.theme.accent}-fg}${this.source.header(w)}{/${this.theme.accent}-fg}{/bold}`];
    if (total === 0) lines.push(this.source.empty ?? '(none)');
    const end = Math.min(total, this.vp.offset + this.rows);
    for (let i = this.vp.offset; i < end; i++) {
      const text = this.source.row(i, w);
      lines.push(
        i === this.vp.selected && this.active
          ? `{${this.theme.selectedBg}-bg}{${this.theme.selectedFg}-fg}${padTagged(text, w)}{/${this.theme.selectedFg}-fg}{/${this.theme.selectedBg}-bg}`
          : text,
      );
    }
    if (total > this.rows) {
      // Scroll position indicator in the header's right corner.
      const pos = ` ${this.vp.selected + 1}/${total} `;
      lines[0] = padTagged(lines[0]!, w - pos.length) + pos;
    }
    this.box.setContent(lines.join('\n'));
  }
}

/** Visible width of tagged text (tags and the {open}/{close} escapes counted right). */
export function visibleLength(tagged: string): number {
  return tagged.replace(/\{(open|close)\}/g, 'x').replace(/\{\/?[\w\-,;!#]*\}/g, '').length;
}

/** Pad tagged text with spaces to `w` visible columns (so a selection bar spans the row). */
export function padTagged(tagged: string, w: number): string {
  const len = visibleLength(tagged);
  return len >= w ? tagged : tagged + ' '.repeat(w - len);
}
