// A VM's snapshots as a modal list (name, size, age), as `vm snapshots` prints them: ↑/↓ to
// choose, r/Enter restore, d delete (each behind a confirm the caller opens), Esc closes. The
// rows are replaced in place when the engine says the VM's snapshots changed.
import blessed from 'blessed';
import type { SnapshotRecord } from '../../contract/api.js';
import { escapeTags } from '../present/rows.js';
import { keyName, type KeyEventLike } from '../keys.js';
import type { Theme } from '../present/colors.js';
import type { Modal } from './dialogs.js';
import { formatAgo, formatBytes } from '../../base/human.js';

export interface SnapshotListHandlers {
  restore(snap: string): void;
  remove(snap: string): void;
  close(): void;
}

/** One row: pure, so it is tested without a screen. */
export function snapshotRow(s: SnapshotRecord, now: number): string[] {
  return [s.name, formatBytes(s.sizeBytes), formatAgo(s.createdAt, now)];
}

export class SnapshotListDialog implements Modal {
  private box: blessed.Widgets.BoxElement;
  private sel = 0;
  private rows: SnapshotRecord[] = [];

  constructor(
    private screen: blessed.Widgets.Screen,
    private theme: Theme,
    private vm: string,
    rows: SnapshotRecord[],
    private h: SnapshotListHandlers,
  ) {
    this.box = blessed.box({
      parent: screen,
      top: 'center',
      left: 'center',
      width: Math.min((screen.width as number) - 2, 72),
      height: 8,
      tags: true,
      label: ` snapshots of ${escapeTags(vm)} `,
      border: { type: 'line' },
      style: { border: { fg: theme.border }, label: { bold: true } },
      padding: { left: 1, right: 1 },
    });
    this.setRows(rows);
  }

  get selected(): string | null {
    return this.rows[this.sel]?.name ?? null;
  }

  setRows(rows: SnapshotRecord[]): void {
    const keep = this.selected;
    this.rows = rows;
    const i = keep ? rows.findIndex((r) => r.name === keep) : -1;
    this.sel = i >= 0 ? i : Math.min(this.sel, Math.max(0, rows.length - 1));
    this.draw();
  }

  private draw(): void {
    const now = Date.now();
    const cells = this.rows.map((r) => snapshotRow(r, now));
    const w0 = Math.max(4, ...cells.map((c) => c[0]!.length));
    const w1 = Math.max(4, ...cells.map((c) => c[1]!.length));
    const line = (c: string[]) => `${c[0]!.padEnd(w0)}  ${c[1]!.padStart(w1)}  ${c[2]}`;
    const a = this.theme.accent;
    const lines = [`{bold}${escapeTags(line(['NAME', 'SIZE', 'AGE']))}{/bold}`];
    if (!this.rows.length) lines.push(`{white-fg}no snapshots: press z on the VM to take one{/white-fg}`);
    cells.forEach((c, i) =>
      lines.push(i === this.sel ? `{inverse}${escapeTags(line(c))}{/inverse}` : escapeTags(line(c))),
    );
    lines.push(
      '',
      `{${a}-fg}{bold}r{/bold}{/${a}-fg} restore  {${a}-fg}{bold}d{/bold}{/${a}-fg} delete  {${a}-fg}{bold}Esc{/bold}{/${a}-fg} close`,
    );
    this.box.height = Math.min((this.screen.height as number) - 2, lines.length + 2);
    this.box.setContent(lines.join('\n'));
  }

  handleKey(ch: string | undefined, key: KeyEventLike): boolean {
    const k = keyName(ch, key);
    if (k === 'escape' || k === 'q') this.h.close();
    else if (k === 'up' || k === 'k') this.move(-1);
    else if (k === 'down' || k === 'j') this.move(1);
    else if ((k === 'r' || k === 'enter') && this.selected) this.h.restore(this.selected);
    else if (k === 'd' && this.selected) this.h.remove(this.selected);
    return true; // swallow everything else while shown
  }

  private move(d: number): void {
    this.sel = Math.max(0, Math.min(this.rows.length - 1, this.sel + d));
    this.draw();
  }

  destroy(): void {
    this.box.destroy();
  }
}
