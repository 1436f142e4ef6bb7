// The selected VM's serial console: bytes go through a headless xterm and the visible buffer
// lines are drawn as tagged text. `i` enters input mode, where keys go to the guest.
import blessed from 'blessed';
import type { Unsubscribe } from '../../contract/api.js';
import { ErrorCodes } from '../../base/errors.js';
import type { Topic } from '../state/data.js';
import type { ConsoleModel } from '../present/console-render.js';
import { escapeTags } from '../present/rows.js';
import type { ActionId } from '../keys.js';
import { stateColor } from '../present/colors.js';
import { CHROME_BOTTOM, CHROME_TOP, type View, type ViewContext } from './view.js';

const TAIL_BYTES = 256 * 1024;

export class ConsoleView implements View {
  readonly id = 'console' as const;
  readonly root: blessed.Widgets.BoxElement;
  private body: blessed.Widgets.BoxElement;
  private model: ConsoleModel | null = null;
  private vmName: string | null = null;
  private unsub: Unsubscribe | null = null;
  private scroll = 0;
  private gen = 0;
  /** Showing the last boot's log of a VM that was not running: attach for real once it runs. */
  private readOnly = false;
  /** The gen of the attach in flight, 0 when none. */
  private attaching = 0;
  /** Re-attach attempts while the data says running but the engine said not (bounded). */
  private retries = 0;
  inputMode = false;

  constructor(private ctx: ViewContext) {
    this.root = blessed.box({ parent: ctx.screen, top: CHROME_TOP, left: 0, width: '100%', height: 1, tags: true });
    this.body = blessed.box({
      parent: this.root,
      top: 0,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      wrap: false,
      border: { type: 'line' },
      style: { border: { fg: ctx.theme.border } },
    });
    this.relayout();
  }

  private get innerCols(): number {
    return Math.max(2, (this.body.width as number) - 2);
  }
  private get innerRows(): number {
    return Math.max(1, (this.body.height as number) - 2);
  }

  title(): string {
    if (!this.vmName) return '{bold}Console{/bold}  (select a VM on the VMs screen)';
    const vm = this.ctx.data.vmByName(this.vmName);
    const st = vm ? `{${stateColor(vm.state)}-fg}${vm.state}{/${stateColor(vm.state)}-fg}` : '{red-fg}gone{/red-fg}';
    const mode = this.inputMode ? '  {black-fg}{yellow-bg} INPUT {/yellow-bg}{/black-fg} Ctrl-] leaves' : '';
    const sc = this.scroll > 0 ? `  {yellow-fg}scrolled back ${this.scroll}{/yellow-fg}` : '';
    return `{bold}Console{/bold} ${escapeTags(this.vmName)} (${st})${mode}${sc}`;
  }

  relayout(): void {
    const h = Math.max(3, (this.ctx.screen.height as number) - CHROME_TOP - CHROME_BOTTOM);
    this.root.height = h;
    this.body.height = h;
    this.model?.resize(this.innerCols, this.innerRows);
    this.draw();
  }

  /**
   * Attach to the selected VM's console (on show, or when the selection changed). Only a live
   * subscription counts as attached: a stopped VM shows its last log read-only, and refresh()
   * attaches again when it enters running.
   */
  async attach(name: string | null, force = false): Promise<void> {
    if (!force && name === this.vmName && this.model && this.unsub) return;
    if (name !== this.vmName) this.retries = 0;
    this.detach();
    this.vmName = name;
    this.scroll = 0;
    this.inputMode = false;
    this.readOnly = false;
    if (!name) {
      this.draw();
      return;
    }
    const gen = ++this.gen;
    this.attaching = gen;
    try {
      await this.attachAs(gen, name);
    } finally {
      if (this.attaching === gen) this.attaching = 0;
    }
  }

  private async attachAs(gen: number, name: string): Promise<void> {
    // xterm loads on first use: it costs ~100 ms that the first frame should not pay.
    const { ConsoleModel } = await import('../present/console-render.js');
    if (gen !== this.gen) return;
    const model = new ConsoleModel(this.innerCols, this.innerRows);
    const early: Buffer[] = [];
    let live = false;
    let unsub: Unsubscribe | null = null;
    try {
      unsub = await this.ctx.engine.subscribeConsole(name, (d) => {
        if (gen !== this.gen) return;
        if (!live) {
          early.push(d);
          return;
        }
        void model.write(d).then(() => this.onOutput(gen));
      });
    } catch (err) {
      if (gen !== this.gen) return;
      // Not running: show what the last boot printed; the 'running' change attaches for real.
      if ((err as { code?: unknown })?.code === ErrorCodes.INVALID_STATE) await this.showReadOnly(gen, name, model);
      else {
        model.dispose();
        this.ctx.showError(`console ${name}`, err);
        this.draw();
      }
      return;
    }
    if (gen !== this.gen) {
      unsub();
      model.dispose();
      return;
    }
    this.unsub = unsub;
    this.model = model;
    this.retries = 0;
    try {
      const tail = await this.ctx.engine.consoleTail(name, TAIL_BYTES);
      if (gen !== this.gen) return;
      // Bytes that arrived while the tail was read may already be in it: skip them if so.
      const extra = Buffer.concat(early);
      early.length = 0;
      const dup =
        extra.length > 0 && tail.length >= extra.length && tail.subarray(tail.length - extra.length).equals(extra);
      const first = model.write(dup ? tail : Buffer.concat([tail, extra]));
      // Live from here, before the parse ends: xterm keeps writes in order, and bytes that came
      // during that await used to go to `early` after it was read, and were lost (the boot
      // banner, when it came then: the console-of-a-stopped-VM flake, issue 25 #10).
      live = true;
      await first;
      this.onOutput(gen);
    } catch (err) {
      if (gen === this.gen) this.ctx.showError(`console ${name}`, err);
    }
  }

  /** The log of a VM that is not running, without a subscription (so attach() tries again). */
  private async showReadOnly(gen: number, name: string, model: ConsoleModel): Promise<void> {
    let tail: Buffer;
    try {
      tail = await this.ctx.engine.consoleTail(name, TAIL_BYTES);
    } catch {
      tail = Buffer.alloc(0);
    }
    if (gen !== this.gen) {
      model.dispose();
      return;
    }
    this.model = model;
    this.readOnly = true;
    await model.write(tail);
    this.onOutput(gen);
    // The data already says running (a start raced the open): the engine attaches its console
    // right after, so look again shortly rather than wait for another update.
    if (this.ctx.data.vmByName(name)?.state === 'running' && this.retries++ < 10)
      setTimeout(() => gen === this.gen && this.refresh(new Set(['vms'])), 300).unref();
  }

  private onOutput(gen: number): void {
    if (gen !== this.gen) return;
    this.draw();
    this.ctx.requestRender();
  }

  private detach(): void {
    this.gen++;
    this.unsub?.();
    this.unsub = null;
    this.model?.dispose();
    this.model = null;
  }

  private draw(): void {
    if (!this.model) {
      const vm = this.ctx.data.vmByName(this.vmName);
      this.body.setContent(
        !this.vmName
          ? 'No VM selected.'
          : vm && vm.state !== 'running'
            ? `VM is ${vm.state}: its console appears when it runs.`
            : 'connecting…',
      );
      return;
    }
    this.scroll = Math.min(this.scroll, this.model.maxScroll);
    this.body.setContent(this.model.visibleLines(this.scroll).join('\n'));
  }

  /** Plain text (tests). */
  text(): string {
    return this.model?.plainText() ?? '';
  }

  refresh(topics: Set<Topic> | null): void {
    if (topics === null) this.draw();
    if (this.vmName && (topics === null || topics.has('vms'))) {
      // A VM shown read-only attaches once the data says it runs, whatever states it passed
      // through on the way (a stop and a start can arrive as one update). Other state changes
      // only affect the title, drawn by the app.
      const running = this.ctx.data.vmByName(this.vmName)?.state === 'running';
      if (running && this.readOnly && !this.attaching)
        void this.attach(this.vmName, true).then(() => this.ctx.requestRender());
    }
  }

  async send(data: string): Promise<void> {
    if (!this.vmName) return;
    try {
      await this.ctx.engine.sendConsole(this.vmName, data);
    } catch (err) {
      this.inputMode = false;
      this.ctx.showError(`console ${this.vmName}`, err);
    }
  }

  action(a: ActionId): boolean {
    if (!this.model)
      return a === 'console-input' ? (this.ctx.showError('console', new Error('no VM selected')), true) : false;
    const page = Math.max(1, this.innerRows - 1);
    switch (a) {
      case 'page-up':
        this.scroll = Math.min(this.model.maxScroll, this.scroll + page);
        break;
      case 'page-down':
        this.scroll = Math.max(0, this.scroll - page);
        break;
      case 'end':
        this.scroll = 0;
        break;
      case 'console-input':
        this.inputMode = true;
        this.scroll = 0;
        break;
      default:
        return false;
    }
    this.draw();
    return true;
  }

  show(): void {
    this.root.show();
  }
  hide(): void {
    this.root.hide();
    this.inputMode = false;
  }
  dispose(): void {
    this.detach();
  }
}

/** Bytes to send to the guest for a key pressed in input mode (blessed's raw sequence). */
export function keyToBytes(
  ch: string | undefined,
  key: { name?: string; sequence?: string; ctrl?: boolean },
): string | null {
  if (key.name === 'return') return null; // blessed sends '\r' twice: as 'return' and as 'enter'
  if (key.sequence) return key.sequence;
  return ch ?? null;
}
