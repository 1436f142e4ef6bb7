// The app: chrome (header, status, footer), the screens, modals and key dispatch. Every key
// goes: top modal -> prompt line -> console input mode -> the key table.
import blessed from 'blessed';
import type { EngineApi, ImageRecord, KernelRecord } from '../contract/api.js';
import { headerLine, statusLine, tabsLine } from './present/chrome.js';
import { themeFor, type Theme } from './present/colors.js';
import { ConsoleView, keyToBytes } from './views/console.js';
import { DataModel, type Topic } from './state/data.js';
import { MessageDialog, TextOverlay, type Modal } from './widgets/dialogs.js';
import { MetricsView } from './views/metrics.js';
import { DnsView } from './views/dns.js';
import { EngineView } from './views/engine.js';
import { LineInput } from './widgets/form.js';
import { ImagesView } from './views/images.js';
import {
  footerText,
  helpLines,
  keyName,
  resolveKey,
  SCREENS,
  COMMAND_SCREENS,
  screenAfter,
  type ActionId,
  type KeyEventLike,
  type ScreenId,
} from './keys.js';
import { RenderCoalescer } from './state/scheduler.js';
import { VmsView } from './views/vms.js';
import type { View, ViewContext } from './views/view.js';
import type { ActionHost, QuitChoice } from './host.js';
import { VmActions } from './actions/vms.js';
import { ImageActions } from './actions/images.js';
import { quit } from './actions/quit.js';
import { suspendTerminal } from './terminal.js';
import { Bars } from './widgets/bars.js';

export interface AppOptions {
  mode: 'embedded' | 'attached';
  onQuit: (choice: QuitChoice) => Promise<void>;
  runSsh?: (name: string) => Promise<number>;
  runImageShell?: (image: string, saveAs: string | undefined) => Promise<number>;
}

export class App implements ViewContext, ActionHost {
  readonly theme: Theme;
  readonly data: DataModel;
  readonly pending = new Map<string, string>();
  selectedVm: string | null = null;
  readonly views: Record<ScreenId, View>;
  current: ScreenId = 'vms';
  readonly renderer: RenderCoalescer;
  private readonly bars: Bars;
  private modals: Modal[] = [];
  private prompt: { kind: 'filter' | 'command'; input: LineInput } | null = null;
  private message: { text: string; kind: 'info' | 'error' } | null = null;
  private spinnerFrame = 0;
  private spinnerTimer: NodeJS.Timeout | null = null;
  private uptimeTimer: NodeJS.Timeout | null = null;
  private suspended = false;
  private modeNow: 'embedded' | 'attached';
  private readonly vmActions: VmActions;
  private readonly imageActions: ImageActions;

  constructor(
    readonly screen: blessed.Widgets.Screen,
    readonly engine: EngineApi,
    readonly opts: AppOptions,
  ) {
    this.modeNow = opts.mode;
    this.theme = themeFor((screen.tput as unknown as { colors?: number }).colors ?? 8);
    this.renderer = new RenderCoalescer(() => {
      if (!this.suspended) this.screen.render();
    });
    this.data = new DataModel(engine, (t) => this.onData(t));
    this.bars = new Bars(screen, this.theme);
    this.views = {
      vms: new VmsView(this),
      console: new ConsoleView(this),
      images: new ImagesView(this),
      dns: new DnsView(this),
      engine: new EngineView(this),
      metrics: new MetricsView(this),
    };
    this.vmActions = new VmActions(this);
    this.imageActions = new ImageActions(this);
    for (const id of SCREENS) if (id !== this.current) this.views[id].hide();
    screen.on('keypress', (ch: string | undefined, key: KeyEventLike & { sequence?: string }) => this.onKey(ch, key));
    screen.on('resize', () => this.relayout());
    this.drawChrome();
  }

  get vmsView(): VmsView {
    return this.views.vms as VmsView;
  }
  get consoleView(): ConsoleView {
    return this.views.console as ConsoleView;
  }
  private get imagesView(): ImagesView {
    return this.views.images as ImagesView;
  }

  // --- what actions see (ActionHost) -------------------------------------------
  get mode(): 'embedded' | 'attached' {
    return this.modeNow;
  }
  /** A handover moved the engine: the header and the quit question follow. */
  setMode(mode: 'embedded' | 'attached'): void {
    this.modeNow = mode;
    this.drawChrome();
    this.requestRender();
  }
  get runSsh(): ((name: string) => Promise<number>) | undefined {
    return this.opts.runSsh;
  }
  get runImageShell(): AppOptions['runImageShell'] {
    return this.opts.runImageShell;
  }
  selectVm(name: string): void {
    this.vmsView.selectByName(name);
  }
  selectedImage(): ImageRecord | undefined {
    return this.imagesView.selected;
  }
  selectedKernel(): KernelRecord | undefined {
    return this.imagesView.selectedKernel;
  }
  pendingFor(name: string): string | undefined {
    return this.pending.get(name);
  }

  /** Hand the terminal over (ssh): nothing renders and keys are ignored until fn settles. */
  async suspend<T>(fn: () => Promise<T>): Promise<T> {
    this.suspended = true;
    try {
      return await suspendTerminal(this.screen, fn);
    } finally {
      this.suspended = false;
      this.relayout();
    }
  }

  /** Events were missed (reconnect, handover): fetch everything and redraw this screen. */
  async resync(): Promise<void> {
    await this.data.refetchAll();
    if (!this.destroyed) this.switchTo(this.current);
  }

  async start(): Promise<void> {
    await this.data.start();
  }

  requestRender(): void {
    this.renderer.request();
  }

  private onData(topics: Set<Topic>): void {
    // A refetch in flight at destroy() lands afterwards: it must not start timers again.
    if (this.destroyed) return;
    for (const id of SCREENS) this.views[id].refresh(topics);
    // A bare metrics sample only changes the VM table and the Metrics screen: no frame elsewhere.
    if (topics.size === 1 && topics.has('metrics') && this.current !== 'vms' && this.current !== 'metrics') return;
    this.drawChrome();
    this.updateUptimeTick();
    this.requestRender();
  }

  relayout(): void {
    for (const id of SCREENS) this.views[id].relayout();
    for (const m of this.modals) m.relayout?.();
    this.drawChrome();
    this.requestRender();
  }

  drawChrome(): void {
    const w = this.screen.width as number;
    const title = this.views[this.current].title();
    const p = this.prompt;
    this.bars.set(
      `${headerLine(this.modeNow, this.data.status, this.data.vms, this.theme.accent)}\n${tabsLine(this.current, this.theme.accent)}  ${title}`,
      p
        ? ` {bold}${p.kind === 'filter' ? '/' : ':'}{/bold}${blessed.escape(p.input.value)}▏`
        : statusLine(this.pending, this.spinnerFrame, this.message),
      ' ' + footerText(this.current, w - 2),
    );
  }

  // --- messages and pending actions -------------------------------------------
  showError(title: string, err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown })?.code;
    const message = { text: `${title}: ${msg}`, kind: 'error' as const };
    this.message = message;
    this.openModal(
      new MessageDialog(this.screen, this.theme, title, typeof code === 'string' ? `${msg}\n(${code})` : msg, () => {
        // Read and dismissed: the status line lets go of it too (unless something newer is there).
        if (this.message === message) this.message = null;
        this.closeModal();
      }),
    );
  }

  info(text: string): void {
    this.message = { text, kind: 'info' };
    this.drawChrome();
    this.requestRender();
  }

  setPending(name: string, what: string | null): void {
    if (what) this.pending.set(name, what);
    else this.pending.delete(name);
    if (this.pending.size && !this.spinnerTimer) {
      // The spinner ticks only while an action is in flight.
      this.spinnerTimer = setInterval(() => {
        this.spinnerFrame++;
        this.drawChrome();
        this.requestRender();
      }, 120);
    } else if (!this.pending.size && this.spinnerTimer) {
      clearInterval(this.spinnerTimer);
      this.spinnerTimer = null;
    }
    this.vmsView.refresh(null);
    this.drawChrome();
    this.requestRender();
  }

  /** Uptime ticks once a second, only while the VM table is shown and a VM runs. */
  private updateUptimeTick(): void {
    const want = this.current === 'vms' && this.data.vms.some((v) => v.state === 'running') && !this.suspended;
    if (want && !this.uptimeTimer) {
      this.uptimeTimer = setInterval(() => {
        this.vmsView.tick();
        this.requestRender();
      }, 1000);
    } else if (!want && this.uptimeTimer) {
      clearInterval(this.uptimeTimer);
      this.uptimeTimer = null;
    }
  }

  // --- modals ----------------------------------------------------------------
  openModal(m: Modal): void {
    this.modals.push(m);
    this.drawChrome();
    this.requestRender();
  }

  closeModal(): void {
    this.modals.pop()?.destroy();
    this.drawChrome();
    this.requestRender();
  }

  get modalOpen(): boolean {
    return this.modals.length > 0;
  }

  // --- screens ---------------------------------------------------------------
  switchTo(id: ScreenId): void {
    if (id !== this.current) {
      this.views[this.current].hide();
      this.current = id;
      this.views[id].show();
    }
    if (id === 'console')
      void this.consoleView.attach(this.selectedVm).then(() => {
        this.drawChrome();
        this.requestRender();
      });
    this.views[id].refresh(null);
    this.updateUptimeTick();
    this.drawChrome();
    this.requestRender();
  }

  // --- keys ------------------------------------------------------------------
  onKey(ch: string | undefined, key: KeyEventLike & { sequence?: string }): void {
    if (this.suspended) return;
    try {
      this.dispatchKey(ch, key);
    } catch (err) {
      this.showError('error', err);
    }
  }

  private dispatchKey(ch: string | undefined, key: KeyEventLike & { sequence?: string }): void {
    const top = this.modals[this.modals.length - 1];
    if (top) {
      top.handleKey(ch, key);
      this.requestRender();
      return;
    }
    if (this.prompt) {
      this.promptKey(ch, key);
      return;
    }
    if (this.current === 'console' && this.consoleView.inputMode) {
      if (ch === '\x1d') {
        this.consoleView.inputMode = false;
        this.drawChrome();
        this.requestRender();
        return;
      }
      const bytes = keyToBytes(ch, key);
      if (bytes !== null) void this.consoleView.send(bytes);
      return;
    }
    const k = keyName(ch, key);
    const action = resolveKey(this.current, k);
    if (action) this.runAction(action);
  }

  private promptKey(ch: string | undefined, key: KeyEventLike): void {
    const p = this.prompt!;
    const r = p.input.key(keyName(ch, key), ch);
    if (p.kind === 'filter' && (r === 'changed' || r === 'cancel')) {
      this.vmsView.setFilter(r === 'cancel' ? '' : p.input.value);
    }
    if (r === 'submit' || r === 'cancel') {
      this.prompt = null;
      if (r === 'submit' && p.kind === 'command') this.runCommand(p.input.value.trim());
    }
    this.drawChrome();
    this.requestRender();
  }

  runCommand(cmd: string): void {
    const screen = COMMAND_SCREENS[cmd];
    if (screen) {
      this.switchTo(screen);
      return;
    }
    if (cmd === 'q' || cmd === 'quit') {
      void quit(this);
      return;
    }
    if (cmd)
      this.showError('command', new Error(`unknown command :${cmd} (try :vms :images :dns :engine :metrics :q)`));
  }

  runAction(a: ActionId): void {
    const view = this.views[this.current];
    if (view.action(a)) {
      this.drawChrome();
      this.requestRender();
      return;
    }
    const target = screenAfter(a, this.current);
    if (target) {
      if (target !== this.current || a !== 'back') this.switchTo(target);
      return;
    }
    switch (a) {
      case 'help':
        this.openModal(
          new TextOverlay(this.screen, this.theme, 'help', helpLines(this.current), () => this.closeModal()),
        );
        return;
      case 'filter':
      case 'command':
        this.prompt = { kind: a, input: new LineInput(a === 'filter' ? this.vmsView.filter : '') };
        this.drawChrome();
        this.requestRender();
        return;
      case 'details': {
        const d = this.current === 'images' ? this.imagesView.fullDetails() : this.vmsView.fullDetails();
        if (d) this.openModal(new TextOverlay(this.screen, this.theme, d.title, d.lines, () => this.closeModal()));
        return;
      }
      case 'console':
        this.switchTo('console');
        return;
      case 'refresh':
        void this.data.refetchAll();
        this.screen.realloc();
        return;
      case 'quit':
        void quit(this);
        return;
      default:
        // The Images screen's d deletes an image or kernel; everywhere else actions are the VM's.
        if (this.current === 'images' && this.imageActions.run(a)) return;
        if (!this.vmActions.run(a)) this.imageActions.run(a);
    }
  }

  /** Set by runTui: tears the screen down and calls opts.onQuit. */
  quitHandler: (choice: QuitChoice) => Promise<void> = async () => {};
  quitWith(choice: QuitChoice): Promise<void> {
    return this.quitHandler(choice);
  }

  private destroyed = false;
  destroy(): void {
    this.destroyed = true;
    if (this.spinnerTimer) clearInterval(this.spinnerTimer);
    if (this.uptimeTimer) clearInterval(this.uptimeTimer);
    this.spinnerTimer = null;
    this.uptimeTimer = null;
    this.data.stop();
    for (const id of SCREENS) this.views[id].dispose?.();
  }
}
