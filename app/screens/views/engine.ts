// Engine: status fields and the engine's log (engineLog on start, then 'log' events).
import blessed from 'blessed';
import type { Topic } from '../state/data.js';
import { escapeTags, fit } from '../present/rows.js';
import { formatDuration } from '../../base/human.js';
import type { ActionId } from '../keys.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';

const STATUS_LINES = 5;

export class EngineView implements View {
  readonly id = 'engine' as const;
  readonly root: blessed.Widgets.BoxElement;
  private info: blessed.Widgets.BoxElement;
  private log: blessed.Widgets.BoxElement;
  private scroll = 0;

  constructor(private ctx: ViewContext) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.info = blessed.box({ parent: this.root, top: 0, left: 0, width: '100%', height: STATUS_LINES, tags: true });
    this.log = blessed.box({
      parent: this.root,
      top: STATUS_LINES,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      label: ' engine log ',
      border: { type: 'line' },
      style: { border: { fg: ctx.theme.border } },
    });
    this.relayout();
  }

  title(): string {
    return '{bold}Engine{/bold}';
  }

  relayout(): void {
    const h = Math.max(STATUS_LINES + 3, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    this.root.height = h;
    this.log.height = h - STATUS_LINES;
    this.refresh(null);
  }

  refresh(topics: Set<Topic> | null): void {
    if (topics && !topics.has('status') && !topics.has('log')) return;
    const s = this.ctx.data.status;
    const kv = (k: string, v: string) => `{bold}${k.padEnd(9)}{/bold}${escapeTags(v)}`;
    if (s) {
      const backends = s.backends
        .map((b) => `${b.name}${b.available ? '' : ' (unavailable: ' + b.reason + ')'}`)
        .join(', ');
      this.info.setContent(
        [
          `${kv('mode', s.mode)}   ${kv('pid', String(s.pid))}   ${kv('uptime', formatDuration(s.uptimeSec))}   ${kv('build', s.buildId)}`,
          kv('state', s.stateDir),
          kv('socket', s.controlSocket ?? '-'),
          `${kv('backends', backends)}   ${kv('default', s.defaultBackend)}`,
          kv('vms', `${s.vms.total} total, ${s.vms.running} running`),
        ].join('\n'),
      );
    } else {
      this.info.setContent(
        this.ctx.data.lastError ? `{red-fg}${escapeTags(this.ctx.data.lastError)}{/red-fg}` : 'loading…',
      );
    }
    const lines = this.ctx.data.log;
    const lh = Math.max(1, (this.log.height as number) - 2);
    const w = Math.max(10, (this.log.width as number) - 2);
    this.scroll = Math.min(this.scroll, Math.max(0, lines.length - lh));
    const end = lines.length - this.scroll;
    this.log.setContent(
      lines
        .slice(Math.max(0, end - lh), end)
        .map((l) => {
          const t = escapeTags(fit(l, w));
          return / (ERROR|WARN) /.test(l) ? `{${/ ERROR /.test(l) ? 'red' : 'yellow'}-fg}${t}{/}` : t;
        })
        .join('\n'),
    );
  }

  action(a: ActionId): boolean {
    const page = Math.max(1, (this.log.height as number) - 3);
    if (a === 'page-up') this.scroll += page;
    else if (a === 'page-down') this.scroll = Math.max(0, this.scroll - page);
    else if (a === 'end') this.scroll = 0;
    else return false;
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
