// Images and builds: the image table, a progress bar per build, and the live build log.
import blessed from 'blessed';
import type { BuildProgress, ImageRecord } from '../engine/api.js';
import type { Topic } from './data.js';
import { escapeTags, fit, formatBuildRow, formatImageRow } from './format.js';
import type { ActionId } from './keys.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';
import { VTable } from './vtable.js';

export class ImagesView implements View {
  readonly id = 'images' as const;
  readonly root: blessed.Widgets.BoxElement;
  private table: VTable;
  private builds: blessed.Widgets.BoxElement;
  private log: blessed.Widgets.BoxElement;
  private logScroll = 0;

  constructor(private ctx: ViewContext) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.table = new VTable(
      this.root,
      {
        count: () => ctx.data.images.length,
        header: (w) => fit(`${fit('NAME', 18)} ${fit('SIZE', 7)} SOURCE`, w),
        row: (i, w) => formatImageRow(ctx.data.images[i]!, w),
        empty: 'No images. Press {bold}b{/bold} to build one.',
      },
      ctx.theme,
      { top: 0, height: 1 },
    );
    this.builds = blessed.box({
      parent: this.root,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      label: ' builds ',
      border: { type: 'line' },
      style: { border: { fg: ctx.theme.border } },
    });
    this.log = blessed.box({
      parent: this.root,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      label: ' build log ',
      border: { type: 'line' },
      style: { border: { fg: ctx.theme.border } },
    });
    this.relayout();
  }

  title(): string {
    const running = [...this.ctx.data.builds.values()].filter((b) => b.state === 'running').length;
    return `{bold}Images{/bold} (${this.ctx.data.images.length})  kernels: ${escapeTags(this.ctx.data.kernels.map((k) => k.name).join(', ') || '-')}${running ? `  {cyan-fg}${running} building{/cyan-fg}` : ''}`;
  }

  get selected(): ImageRecord | undefined {
    return this.ctx.data.images[this.table.selected];
  }

  relayout(): void {
    const h = Math.max(6, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    this.root.height = h;
    const tableH = Math.max(3, Math.floor(h * 0.35));
    const buildsH = Math.max(3, Math.min(7, Math.floor(h * 0.25)));
    this.table.box.height = tableH;
    this.builds.top = tableH;
    this.builds.height = buildsH;
    this.log.top = tableH + buildsH;
    this.log.height = Math.max(3, h - tableH - buildsH);
    this.refresh(null);
  }

  private latestBuild(): BuildProgress | undefined {
    const all = [...this.ctx.data.builds.values()];
    return all.find((b) => b.state === 'running') ?? all[all.length - 1];
  }

  refresh(topics: Set<Topic> | null): void {
    if (topics && !topics.has('images') && !topics.has('builds')) return;
    this.table.update();
    const w = Math.max(10, (this.builds.width as number) - 2);
    const bh = Math.max(1, (this.builds.height as number) - 2);
    const builds = [...this.ctx.data.builds.values()].slice(-bh);
    this.builds.setContent(builds.length ? builds.map((b) => formatBuildRow(b, w)).join('\n') : 'No builds yet.');
    const b = this.latestBuild();
    const lines = b ? this.ctx.data.buildLog(b.id) : [];
    const lh = Math.max(1, (this.log.height as number) - 2);
    this.logScroll = Math.min(this.logScroll, Math.max(0, lines.length - lh));
    const end = lines.length - this.logScroll;
    this.log.setLabel(b ? ` build log: ${escapeTags(b.name)} ` : ' build log ');
    this.log.setContent(
      lines
        .slice(Math.max(0, end - lh), end)
        .map((l) => escapeTags(fit(l, w)))
        .join('\n'),
    );
  }

  action(a: ActionId): boolean {
    switch (a) {
      case 'up':
        this.table.move(-1);
        break;
      case 'down':
        this.table.move(1);
        break;
      case 'page-up':
        this.logScroll += 5;
        break;
      case 'page-down':
        this.logScroll = Math.max(0, this.logScroll - 5);
        break;
      default:
        return false;
    }
    this.refresh(null);
    return true;
  }

  show(): void {
    this.root.show();
  }
  hide(): void {
    this.root.hide();
  }
}
