// Entry for the full-screen TUI. The caller (app/main.ts) hands in an EngineApi, in-process or
// remote, and decides what quitting means through onQuit.
import blessed from 'blessed';
import type { EngineApi } from '../contract/api.js';
import { App } from './app.js';
import { lazyTerminfo } from './lazy-terminfo.js';
import type { QuitChoice } from './host.js';

export type { QuitChoice } from './host.js';

export interface TuiOptions {
  mode: 'embedded' | 'attached';
  /** Called once the user quits; the screen is already torn down when the choice is 'quit'-like. */
  onQuit: (choice: QuitChoice) => Promise<void>;
  /** Run the system ssh for a VM with the terminal handed over; resolves to its exit code. */
  runSsh?: (name: string) => Promise<number>;
  /** `image shell` from the Images screen, terminal handed over; saveAs keeps the disk as an image. */
  runImageShell?: (image: string, saveAs: string | undefined) => Promise<number>;
  /** Tests and benches: custom streams instead of the process tty. */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Called after the first full frame is drawn (bench). */
  onFirstFrame?: () => void;
}

/** How the entry talks to a running TUI. */
export interface TuiHandle {
  /** A one-line message in the status bar. */
  notify(text: string): void;
  /** Fetch everything again and redraw (events were missed: a reconnect, a handover). */
  resync(): Promise<void>;
  /** The engine is now embedded or attached (a handover): the header and quit follow. */
  setMode(mode: 'embedded' | 'attached'): void;
  /** Resolves when the TUI has quit (after onQuit returned). */
  closed: Promise<void>;
  destroy(): void;
}

/** The handle plus the App itself, for tests and benches that inspect the screens. */
export interface TuiInternals extends TuiHandle {
  app: App;
  screen: blessed.Widgets.Screen;
}

function createScreen(opts: TuiOptions): blessed.Widgets.Screen {
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    forceUnicode: true,
    autoPadding: false,
    title: 'banger',
    dockBorders: true,
    warnings: false,
    ...(opts.input ? { input: opts.input } : {}),
    ...(opts.output ? { output: opts.output } : {}),
  } as blessed.Widgets.IScreenOptions);
  // Draw borders as Unicode box characters rather than the ACS charset: they survive tmux
  // captures, copy/paste and terminals with half-working ACS.
  const tput = screen.tput as unknown as { unicode?: boolean; brokenACS?: boolean };
  if (tput.unicode) tput.brokenACS = true;
  return screen;
}

/**
 * Gives the terminal back however the process ends: at exit, and on a crash before the stack
 * trace is printed. release() tears the screen down once and drops the process hooks.
 */
function guardTerminal(screen: blessed.Widgets.Screen): { release(): void } {
  let destroyed = false;
  const restore = () => {
    if (destroyed) return;
    destroyed = true;
    try {
      screen.destroy();
    } catch {
      /* the terminal is going away anyway */
    }
  };
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`banger: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };
  process.on('exit', restore);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  return {
    release() {
      restore();
      process.off('exit', restore);
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    },
  };
}

function onFirstFrame(screen: blessed.Widgets.Screen, app: App, cb: () => void): void {
  let fired = false;
  screen.on('render', () => {
    if (!fired && app.data.status) {
      fired = true;
      cb();
    }
  });
}

export async function runTui(engine: EngineApi, opts: TuiOptions): Promise<TuiInternals> {
  lazyTerminfo();
  const screen = createScreen(opts);
  const guard = guardTerminal(screen);
  const app = new App(screen, engine, opts);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  const end = () => {
    app.destroy();
    guard.release();
    resolveClosed();
  };
  let quitting = false;
  app.quitHandler = async (choice) => {
    if (quitting) return;
    quitting = true;
    try {
      await opts.onQuit(choice);
    } catch (err) {
      quitting = false;
      app.showError('quit', err);
      return;
    }
    end();
  };
  if (opts.onFirstFrame) onFirstFrame(screen, app, opts.onFirstFrame);
  screen.render(); // the chrome at once, data when it lands
  await app.start();
  return {
    app,
    screen,
    notify: (text) => app.info(text),
    resync: () => app.resync(),
    setMode: (mode) => app.setMode(mode),
    closed,
    destroy: end,
  };
}
