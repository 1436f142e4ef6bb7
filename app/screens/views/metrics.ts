// The Metrics screen (key 6, :metrics): host CPU and DNS qps line charts, memory gauges, VMs by state.
// It costs nothing while hidden: the charts exist only while the screen is shown (built on show,
// destroyed on hide), and stream samples are ignored while hidden. On show it draws once from
// the engine's metrics() snapshot, then follows the stream, redrawing at most once a second.
// blessed-contrib quirks handled here: a canvas takes its size when attached (so a resize
// rebuilds the charts), it must be attached before setData, and lines need two points.
import blessed from 'blessed';
import type contrib from 'blessed-contrib';
import type { HostSample } from '../../contract/api.js';
import { cpuSeries, dnsSeries, hostSummary, memGauges, stateLines } from '../present/metrics.js';
import type { Topic } from '../state/data.js';
import { escapeTags } from '../present/rows.js';
import { countByState } from '../../contract/vm-facts.js';
import type { ActionId } from '../keys.js';
import { Throttle } from '../state/scheduler.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';

/** Host samples kept for the charts (10 minutes at 1 Hz, the engine's own history). */
const MAX_HOST = 600;
/** Below this the charts are unreadable: a text summary instead. */
const MIN_W = 60;
const MIN_H = 12;

// blessed-contrib costs ~280 ms to load: it loads when this screen is first shown.
let lib: typeof contrib | null = null;
let loading: Promise<typeof contrib> | null = null;
const loadContrib = () =>
  (loading ??= import('blessed-contrib').then(
    (m) => (lib = (m as { default?: typeof contrib }).default ?? (m as typeof contrib)),
  ));

type Line = contrib.Widgets.LineElement;
type Gauge = contrib.Widgets.GaugeElement;

interface Widgets {
  cpu: Line;
  dns: Line;
  mem: Gauge;
  committed: Gauge;
  states: blessed.Widgets.BoxElement;
}

export class MetricsView implements View {
  readonly id = 'metrics' as const;
  readonly root: blessed.Widgets.BoxElement;
  /** Full redraws done (tests and benches read it). */
  draws = 0;
  private w: Widgets | null = null;
  private summary: blessed.Widgets.BoxElement | null = null;
  private host: HostSample[] = [];
  private lastAt = 0;
  private loaded = false;
  private shown = false;
  private generation = 0;
  private error: string | null = null;
  private readonly throttle: Throttle;

  constructor(
    private ctx: ViewContext,
    intervalMs = 1000,
  ) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.throttle = new Throttle(() => this.draw(), intervalMs);
    this.relayout();
  }

  title(): string {
    const err = this.error ? `  {red-fg}${escapeTags(this.error)}{/red-fg}` : '';
    const n = this.host.length;
    return `{bold}Metrics{/bold} ${this.loaded ? (n ? `(${n} samples)` : '(waiting for samples)') : '(loading…)'}${err}`;
  }

  show(): void {
    this.root.show();
    this.shown = true;
    const gen = ++this.generation;
    if (lib) this.showCharts(gen);
    else
      void loadContrib().then(
        () => {
          if (gen === this.generation && this.shown) this.showCharts(gen);
        },
        (err: unknown) => {
          this.error = `charts: ${err instanceof Error ? err.message : String(err)}`;
          this.ctx.requestRender();
        },
      );
  }

  private showCharts(gen: number): void {
    this.build();
    this.ctx.engine.metrics({ last: 300 }).then(
      (snap) => {
        if (gen !== this.generation || !this.shown) return;
        this.host = snap.host.slice(-MAX_HOST);
        this.lastAt = this.host[this.host.length - 1]?.at ?? 0;
        this.loaded = true;
        this.error = null;
        this.catchUp();
        this.throttle.call();
      },
      (err: unknown) => {
        if (gen !== this.generation) return;
        this.error = `metrics: ${err instanceof Error ? err.message : String(err)}`;
        this.loaded = true;
        this.throttle.call();
      },
    );
  }

  hide(): void {
    this.root.hide();
    this.shown = false;
    this.generation++;
    this.teardown();
    // The history is refetched on the next show; keep nothing big around while hidden.
    this.host = [];
    this.loaded = false;
  }

  refresh(topics: Set<Topic> | null): void {
    if (!this.shown || !this.loaded) return;
    if (topics && !topics.has('metrics') && !topics.has('vms')) return;
    this.catchUp();
    this.throttle.call();
  }

  relayout(): void {
    this.root.height = Math.max(3, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    if (!this.shown || !lib) return;
    // Canvases keep the size they had when attached: rebuild them at the new size.
    this.teardown();
    this.build();
    if (this.loaded) this.draw();
  }

  action(_a: ActionId): boolean {
    return false;
  }

  dispose(): void {
    this.throttle.stop();
    this.teardown();
  }

  /** Append the samples the data model received since our last one. */
  private catchUp(): void {
    const fresh = this.ctx.data.metrics.hostSince(this.lastAt);
    if (!fresh.length) return;
    this.host.push(...fresh);
    if (this.host.length > MAX_HOST) this.host.splice(0, this.host.length - MAX_HOST);
    this.lastAt = fresh[fresh.length - 1]!.at;
  }

  private build(): void {
    const contrib = lib!;
    const W = this.ctx.screen.width as number;
    const H = this.root.height as number;
    const border = { type: 'line' as const };
    const style = { border: { fg: this.ctx.theme.border } };
    if (W < MIN_W || H < MIN_H) {
      this.summary = blessed.box({
        parent: this.root,
        top: 0,
        left: 0,
        width: '100%',
        height: '100%',
        tags: true,
        border,
        style,
        label: ' metrics ',
        padding: { left: 1 },
      });
      return;
    }
    // A gauge draws its bar and text on canvas rows 2-3, so it needs 6 rows with its border.
    const topH = Math.max(Math.floor(H / 2), Math.min(12, H - 8));
    const botH = H - topH;
    const leftW = Math.floor(W * 0.6);
    const rightW = W - leftW;
    const gaugeH = Math.floor(topH / 2);
    const lineOpts = (label: string, top: number, height: number) => ({
      top,
      left: 0,
      width: leftW,
      height,
      label,
      border,
      tags: true,
      minY: 0,
      wholeNumbersOnly: true,
      numYLabels: height >= 12 ? 5 : 3,
      xLabelPadding: 3,
      xPadding: 3,
      style: { line: 'green', text: 'white', baseline: 'white', border: { fg: this.ctx.theme.border } },
    });
    // Created detached, then appended: contrib sets up its canvas on 'attach'.
    const cpu = contrib.line({
      ...lineOpts(' host CPU % ', 0, topH),
      maxY: 100,
      showLegend: false,
    } as contrib.Widgets.LineOptions);
    const dns = contrib.line({
      ...lineOpts(' DNS queries/s by answer ', topH, botH),
      showLegend: botH >= 10,
      legend: { width: 12 },
    } as contrib.Widgets.LineOptions);
    const gauge = (label: string, top: number, height: number, stroke: string) =>
      contrib.gauge({
        top,
        left: leftW,
        width: rightW,
        height,
        label,
        border,
        stroke,
        fill: 'white',
        style,
      } as contrib.Widgets.GaugeOptions);
    const mem = gauge(' memory used ', 0, gaugeH, 'green');
    const committed = gauge(' committed to VMs ', gaugeH, topH - gaugeH, 'cyan');
    for (const el of [cpu, dns, mem, committed]) this.root.append(el);
    const states = blessed.box({
      parent: this.root,
      top: topH,
      left: leftW,
      width: rightW,
      height: botH,
      tags: true,
      border,
      style,
      label: ' VMs by state ',
      padding: { left: 1 },
    });
    this.w = { cpu, dns, mem, committed, states };
  }

  private teardown(): void {
    if (this.w) for (const el of Object.values(this.w)) el.destroy();
    this.summary?.destroy();
    this.w = null;
    this.summary = null;
  }

  private draw(): void {
    if (!this.shown) return;
    this.draws++;
    const last = this.host[this.host.length - 1];
    const byState = last?.vmsByState ?? countByState(this.ctx.data.vms);
    const err = this.error ? [`{red-fg}${escapeTags(this.error)}{/red-fg}`] : [];
    if (this.summary) {
      const width = Math.max(10, (this.summary.width as number) - 4);
      this.summary.setContent([...err, escapeTags(hostSummary(last)), '', ...stateLines(byState, width)].join('\n'));
    }
    const w = this.w;
    if (w) {
      // About one point per column: more would be drawn on top of each other.
      const points = Math.max(2, (w.cpu.width as number) - 8);
      const cpu = cpuSeries(this.host, points);
      w.cpu.setLabel(` host CPU % (now ${last ? Math.round(cpu.y[cpu.y.length - 1]!) : '-'}%) `);
      w.cpu.setData([cpu]);
      const dns = dnsSeries(this.host, points);
      (w.dns.options as { maxY?: number }).maxY = dns.maxY;
      w.dns.setData(dns.series);
      // The label names each kind with its current rate (the legend is dropped when short).
      const now = dns.series.map((x) => `${x.title} ${(x.y[x.y.length - 1] ?? 0).toFixed(1)}`).join('  ');
      w.dns.setLabel(fitLabel(` DNS q/s  ${now} `, (w.dns.width as number) - 4));
      const mem = memGauges(last);
      w.mem.setLabel(mem.used.label);
      w.mem.setPercent(mem.used.percent);
      w.committed.setLabel(mem.committed.label);
      w.committed.setPercent(mem.committed.percent);
      const width = Math.max(10, (w.states.width as number) - 4);
      w.states.setContent([...err, ...stateLines(byState, width)].join('\n'));
    }
    this.ctx.requestRender();
  }
}

function fitLabel(s: string, w: number): string {
  return s.length <= w ? s : s.slice(0, Math.max(1, w - 2)) + '… ';
}
