// DNS: the listeners, the zone and the records the engine serves for NAME.vm.
import blessed from 'blessed';
import type { Topic } from '../state/data.js';
import { escapeTags, fit, formatDnsRow } from '../present/rows.js';
import type { ActionId } from '../keys.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';
import { VTable } from '../widgets/table.js';

export class DnsView implements View {
  readonly id = 'dns' as const;
  readonly root: blessed.Widgets.BoxElement;
  private info: blessed.Widgets.BoxElement;
  private table: VTable;

  constructor(private ctx: ViewContext) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.info = blessed.box({ parent: this.root, top: 0, left: 0, width: '100%', height: 4, tags: true });
    this.table = new VTable(
      this.root,
      {
        count: () => ctx.data.dns.length,
        header: (w) => fit(`${fit('NAME', 28)} ${fit('TYPE', 4)} ${fit('VALUE', 16)} ${fit('TTL', 6)} VM`, w),
        row: (i) => formatDnsRow(ctx.data.dns[i]!),
        empty: 'No records: running VMs get NAME.vm records.',
      },
      ctx.theme,
      { top: 4, height: 1 },
    );
    this.relayout();
  }

  title(): string {
    return `{bold}DNS{/bold} (${this.ctx.data.dns.length} records)`;
  }

  relayout(): void {
    const h = Math.max(6, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    this.root.height = h;
    this.table.box.height = Math.max(2, h - 4);
    this.refresh(null);
  }

  refresh(topics: Set<Topic> | null): void {
    if (topics && !topics.has('dns') && !topics.has('status')) return;
    const dns = this.ctx.data.status?.dns;
    const lines = [
      `{bold}zone{/bold}      ${escapeTags(dns?.zone ?? '-')}   {bold}records{/bold} ${dns?.records ?? this.ctx.data.dns.length}`,
    ];
    for (const l of dns?.listeners ?? []) {
      const st = l.up ? '{green-fg}up{/green-fg}' : `{red-fg}down${l.error ? `: ${escapeTags(l.error)}` : ''}{/red-fg}`;
      lines.push(
        `{bold}listener{/bold}  ${escapeTags(`${l.address}:${l.port}`)} ${escapeTags(l.protocols.join('/'))} ${st}${l.forwards ? ' (forwards)' : ''}`,
      );
    }
    if (!dns) lines.push('{bold}listener{/bold}  -');
    this.info.setContent(lines.slice(0, 3).join('\n'));
    this.table.update();
  }

  action(a: ActionId): boolean {
    if (a === 'up') this.table.move(-1);
    else if (a === 'down') this.table.move(1);
    else return false;
    this.table.update();
    return true;
  }

  show(): void {
    this.root.show();
  }
  hide(): void {
    this.root.hide();
  }
}
