// The VM list: a virtualised table, a detail pane for the selected VM, and the `/` filter.
import blessed from 'blessed';
import type { VmRecord } from '../../contract/api.js';
import type { Topic } from '../state/data.js';
import { filterVms } from '../state/filter.js';
import {
  detailLines,
  escapeTags,
  formatVmRow,
  headerRow,
  humanTimes,
  layoutColumns,
  type Column,
} from '../present/rows.js';
import { vmDetails, isLive } from '../../contract/vm-facts.js';
import { vmExtraLines, vmExtraPairs } from '../present/vm-extras.js';
import { agoChangesIn } from '../../base/human.js';
import type { ActionId } from '../keys.js';
import { vmMetricLines } from '../widgets/sparkline.js';
import { reselect } from '../widgets/viewport.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';
import { VTable } from '../widgets/table.js';

export class VmsView implements View {
  readonly id = 'vms' as const;
  readonly root: blessed.Widgets.BoxElement;
  private table: VTable;
  private detail: blessed.Widgets.BoxElement;
  private rows: VmRecord[] = [];
  private cols: Column[] = [];
  filter = '';
  private want: string | null = null;

  constructor(private ctx: ViewContext) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.table = new VTable(
      this.root,
      {
        count: () => this.rows.length,
        header: () => headerRow(this.cols),
        row: (i) =>
          formatVmRow(this.rows[i]!, this.cols, Date.now(), {
            zone: ctx.data.status?.dns.zone,
            pending: ctx.pending.get(this.rows[i]!.name),
            cpuPct: ctx.data.metrics.latest(this.rows[i]!.id)?.cpuPct,
          }),
        empty: '{white-fg}No VMs. Press {bold}c{/bold} to create one.{/white-fg}',
      },
      ctx.theme,
      { top: 0, height: 1 },
    );
    this.detail = blessed.box({
      parent: this.root,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      border: { type: 'line' },
      label: ' details ',
      style: { border: { fg: ctx.theme.border } },
      padding: { left: 1 },
    });
    this.relayout();
  }

  title(): string {
    const f = this.filter ? `  filter: {yellow-fg}${escapeTags(this.filter)}{/yellow-fg}` : '';
    return `{bold}VMs{/bold} (${this.rows.length}${this.filter ? ` of ${this.ctx.data.vms.length}` : ''})${f}`;
  }

  get selected(): VmRecord | undefined {
    return this.rows[this.table.selected];
  }

  relayout(): void {
    const h = Math.max(3, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    this.root.height = h;
    // The detail pane gets about a third of the space, and disappears when space is short.
    const detailH = h >= 16 ? Math.min(11, Math.max(6, Math.floor(h * 0.38))) : 0;
    this.table.box.height = h - detailH;
    this.detail.top = h - detailH;
    this.detail.height = Math.max(1, detailH);
    if (detailH) this.detail.show();
    else this.detail.hide();
    this.cols = layoutColumns(this.ctx.screen.width as number);
    this.refresh(null);
  }

  setFilter(q: string): void {
    this.filter = q;
    this.refresh(null);
  }

  /** Put the cursor on a VM by name (a VM just created through the form). */
  selectByName(name: string): void {
    this.want = name;
    this.refresh(null);
    this.want = null;
  }

  refresh(topics: Set<Topic> | null): void {
    if (topics && !topics.has('vms') && !topics.has('status')) {
      // A metrics sample changes only the CPU column and the sparklines.
      if (topics.has('metrics') && !this.root.hidden) {
        this.table.update();
        this.drawDetail();
      }
      return;
    }
    const selName = this.want ?? this.selected?.name ?? this.ctx.selectedVm;
    this.rows = filterVms(this.ctx.data.vms, this.filter);
    this.table.select(reselect(this.rows, (v) => v.name, selName, this.table.selected));
    this.ctx.selectedVm = this.selected?.name ?? null;
    this.table.update();
    this.drawDetail();
  }

  /** Uptime tick: the rows, and the pane's "N min ago" times. */
  tick(): void {
    this.table.update();
    this.drawDetail();
  }

  /** One timer for the pane's "N min ago": it fires when that text would change, not on a beat. */
  private agoTimer: NodeJS.Timeout | null = null;

  private scheduleAgo(vm: VmRecord | undefined, now: number): void {
    if (this.agoTimer) clearTimeout(this.agoTimer);
    this.agoTimer = null;
    if (!vm || this.root.hidden || this.detail.hidden) return;
    const waits = [vm.createdAt, vm.startedAt, vm.stoppedAt]
      .map((t) => agoChangesIn(t, now))
      .filter((w): w is number => w !== null);
    if (!waits.length) return;
    this.agoTimer = setTimeout(
      () => {
        this.agoTimer = null;
        this.drawDetail();
        this.ctx.requestRender();
      },
      Math.min(...waits) + 50,
    );
    this.agoTimer.unref();
  }

  private drawDetail(): void {
    if (this.detail.hidden) return;
    const vm = this.selected;
    this.scheduleAgo(vm, Date.now());
    if (!vm) {
      this.detail.setContent('');
      this.detail.setLabel(' details ');
      return;
    }
    const w = Math.max(20, (this.detail.width as number) - 3);
    const now = Date.now();
    const ncols = w >= 110 ? 3 : w >= 70 ? 2 : 1;
    const metrics = isLive(vm.state) ? vmMetricLines(this.ctx.data.metrics.history(vm.id), w) : [];
    const grid = detailLines(humanTimes(vmDetails(vm, this.ctx.data.status?.dns.zone ?? 'vm', now), now), w, ncols);
    // Mounts, ports and first-boot facts (when set) and the last error stay visible when the
    // pane is short: the grid's last rows give way (the Enter overlay has them all).
    const h = Math.max(1, (this.detail.height as number) - 2);
    const tail = vmExtraLines(vm, w);
    const room = h - metrics.length - tail.length;
    if (grid.length > room && vm.lastError)
      tail.push(`{bold}last error {/bold}{red-fg}${escapeTags(vm.lastError)}{/red-fg}`);
    const lines = [...metrics, ...grid.slice(0, Math.max(1, h - metrics.length - tail.length)), ...tail];
    this.detail.setLabel(` ${escapeTags(vm.name)} `);
    this.detail.setContent(lines.join('\n'));
  }

  /** All detail lines, for the Enter overlay. */
  fullDetails(): { title: string; lines: string[] } | null {
    const vm = this.selected;
    if (!vm) return null;
    const now = Date.now();
    // Unpadded: padded to 100 columns, every line wrapped in a narrower overlay (a blank line each).
    const pairs = [...humanTimes(vmDetails(vm, this.ctx.data.status?.dns.zone ?? 'vm', now), now, true)];
    // Mounts, ports and first-boot facts go before the last error, which stays the final line.
    pairs.splice(pairs.length - 1, 0, ...vmExtraPairs(vm));
    return { title: `VM ${vm.name}`, lines: detailLines(pairs, 100, 1).map((l) => l.trimEnd()) };
  }

  action(a: ActionId): boolean {
    const page = Math.max(1, this.table.rows - 1);
    switch (a) {
      case 'up':
        this.table.move(-1);
        break;
      case 'down':
        this.table.move(1);
        break;
      case 'page-up':
        this.table.move(-page);
        break;
      case 'page-down':
        this.table.move(page);
        break;
      case 'home':
        this.table.select(0);
        break;
      case 'end':
        this.table.select(this.rows.length - 1);
        break;
      case 'back':
        if (!this.filter) return false;
        this.filter = '';
        this.refresh(null);
        return true;
      default:
        return false;
    }
    this.ctx.selectedVm = this.selected?.name ?? null;
    this.table.update();
    this.drawDetail();
    return true;
  }

  show(): void {
    this.root.show();
    this.drawDetail();
  }
  hide(): void {
    this.root.hide();
    this.scheduleAgo(undefined, 0);
  }
  dispose(): void {
    this.scheduleAgo(undefined, 0);
  }
}
