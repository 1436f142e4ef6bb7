// Images and kernels as two tables (←/→ moves between them; actions apply to the focused one),
// the builds list with what each build makes (image or kernel), and the live build log.
import blessed from 'blessed';
import type { BuildProgress, ImageRecord, KernelRecord } from '../../contract/api.js';
import type { Topic } from '../state/data.js';
import { imageDetailPairs } from '../present/vm-extras.js';
import {
  detailLines,
  escapeTags,
  fit,
  formatBuildRow,
  formatImageRow,
  formatKernelRow,
  KERNEL_HEADER,
} from '../present/rows.js';
import type { ActionId } from '../keys.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';
import { VTable } from '../widgets/table.js';

export class ImagesView implements View {
  readonly id = 'images' as const;
  readonly root: blessed.Widgets.BoxElement;
  private table: VTable;
  private kernelTable: VTable;
  private builds: blessed.Widgets.BoxElement;
  private log: blessed.Widgets.BoxElement;
  private logScroll = 0;
  /** Which table the cursor keys and d apply to. */
  focus: 'images' | 'kernels' = 'images';

  constructor(private ctx: ViewContext) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.table = new VTable(
      this.root,
      {
        count: () => ctx.data.images.length,
        header: (w) => fit(`${fit('IMAGE', 18)} ${fit('SIZE', 7)} SOURCE`, w),
        row: (i, w) => formatImageRow(ctx.data.images[i]!, w),
        empty: 'No images. Press {bold}b{/bold} to build one.',
      },
      ctx.theme,
      { top: 0, height: 1 },
    );
    this.kernelTable = new VTable(
      this.root,
      {
        count: () => ctx.data.kernels.length,
        header: (w) => fit(KERNEL_HEADER, w),
        row: (i, w) => formatKernelRow(ctx.data.kernels[i]!, w),
        empty: 'No kernels. Press {bold}f{/bold} to fetch one.',
      },
      ctx.theme,
      { top: 0, height: 1 },
    );
    this.kernelTable.active = false;
    this.builds = this.panel(' builds ');
    this.log = this.panel(' build log ');
    this.relayout();
  }

  private panel(label: string): blessed.Widgets.BoxElement {
    return blessed.box({
      parent: this.root,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      label,
      border: { type: 'line' },
      style: { border: { fg: this.ctx.theme.border } },
    });
  }

  title(): string {
    const running = [...this.ctx.data.builds.values()].filter((b) => b.state === 'running').length;
    const counts = `${this.ctx.data.images.length} images, ${this.ctx.data.kernels.length} kernels`;
    return `{bold}Images{/bold} (${counts})${running ? `  {cyan-fg}${running} building{/cyan-fg}` : ''}`;
  }

  /** The selected image, when the images table has the focus. */
  get selected(): ImageRecord | undefined {
    return this.focus === 'images' ? this.ctx.data.images[this.table.selected] : undefined;
  }

  /** The selected kernel, when the kernels table has the focus. */
  get selectedKernel(): KernelRecord | undefined {
    return this.focus === 'kernels' ? this.ctx.data.kernels[this.kernelTable.selected] : undefined;
  }

  /** The focused image's or kernel's every field (an image's OCI config too), for the Enter overlay. */
  fullDetails(): { title: string; lines: string[] } | null {
    const img = this.selected;
    const k = this.selectedKernel;
    const pairs: [string, string][] | null = img
      ? imageDetailPairs(img)
      : k
        ? [
            ['name', k.name],
            ['version', k.version ?? '-'],
            ['source', k.source],
            ['path', k.path],
            ['initrd', k.initrdPath ?? '-'],
            ['created', k.createdAt],
          ]
        : null;
    if (!pairs) return null;
    return {
      title: img ? `image ${img.name}` : `kernel ${k!.name}`,
      lines: detailLines(pairs, 100, 1).map((l) => l.trimEnd()),
    };
  }

  relayout(): void {
    const h = Math.max(8, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    this.root.height = h;
    const tableH = Math.max(3, Math.floor(h * 0.3));
    const kernelH = Math.max(3, Math.floor(h * 0.2));
    const buildsH = Math.max(3, Math.min(7, Math.floor(h * 0.2)));
    this.table.box.height = tableH;
    this.kernelTable.box.top = tableH;
    this.kernelTable.box.height = kernelH;
    this.builds.top = tableH + kernelH;
    this.builds.height = buildsH;
    this.log.top = tableH + kernelH + buildsH;
    this.log.height = Math.max(3, h - tableH - kernelH - buildsH);
    this.refresh(null);
  }

  private latestBuild(): BuildProgress | undefined {
    const all = [...this.ctx.data.builds.values()];
    return all.find((b) => b.state === 'running') ?? all[all.length - 1];
  }

  refresh(topics: Set<Topic> | null): void {
    if (topics && !topics.has('images') && !topics.has('builds')) return;
    this.table.update();
    this.kernelTable.update();
    const w = Math.max(10, (this.builds.width as number) - 2);
    const bh = Math.max(1, (this.builds.height as number) - 2);
    const builds = [...this.ctx.data.builds.values()].slice(-bh);
    this.builds.setContent(builds.length ? builds.map((b) => formatBuildRow(b, w)).join('\n') : 'No builds yet.');
    const b = this.latestBuild();
    const lines = b ? this.ctx.data.buildLog(b.id) : [];
    const lh = Math.max(1, (this.log.height as number) - 2);
    this.logScroll = Math.min(this.logScroll, Math.max(0, lines.length - lh));
    const end = lines.length - this.logScroll;
    this.log.setLabel(b ? ` build log: ${b.kind} ${escapeTags(b.name)} ` : ' build log ');
    this.log.setContent(
      lines
        .slice(Math.max(0, end - lh), end)
        .map((l) => escapeTags(fit(l, w)))
        .join('\n'),
    );
  }

  private setFocus(f: 'images' | 'kernels'): void {
    this.focus = f;
    this.table.active = f === 'images';
    this.kernelTable.active = f === 'kernels';
  }

  action(a: ActionId): boolean {
    const focused = this.focus === 'images' ? this.table : this.kernelTable;
    switch (a) {
      case 'up':
        focused.move(-1);
        break;
      case 'down':
        focused.move(1);
        break;
      case 'focus-images':
        this.setFocus('images');
        break;
      case 'focus-kernels':
        this.setFocus('kernels');
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
