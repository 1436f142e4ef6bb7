// Bare `banger`: attach the TUI to the running engine, or embed one (which also serves the
// control socket, so CLI verbs work meanwhile). Quitting with VMs running can leave the
// engine in the background: the embedded one steps aside and a detached one adopts the VMs.
// The engine can also go away under the TUI: an attached TUI reconnects to whatever engine
// answers next, an embedded one follows a handover to the newer engine, and otherwise the
// TUI ends with one line saying why (never a UI left up on a closed engine).
import { ControlClient } from '../control/client.js';
import { ensureEngine } from '../control/detach.js';
import type { TuiHandle, TuiOptions } from '../screens/tui.js';
import { createRunner } from '../base/process.js';
import type { EngineApi } from '../contract/api.js';
import { retireStale, spawnOptions, trustRuntime } from './connect.js';
import { EngineSwitch, findEngine } from './engine-switch.js';
import { buildId } from '../base/buildid.js';
import type { Paths } from '../base/paths.js';
import { clientSshArgv } from '../cli/ssh.js';
import { imageShell } from '../cli/image-shell.js';

/**
 * How long to look for an engine after losing one (a restart elsewhere takes a few seconds).
 * BANGER_RECONNECT_MS overrides it (tests on a loaded host); anything but a positive integer is ignored.
 */
function reconnectWindowMs(): number {
  const v = Number(process.env.BANGER_RECONNECT_MS);
  return Number.isInteger(v) && v > 0 ? v : 5000;
}

export async function tuiMain(paths: Paths): Promise<number> {
  const say = (s: string) => process.stderr.write(s + '\n');
  trustRuntime(paths);
  // The screens (blessed) load while we look for an engine; only an embedded one loads the engine.
  const screens = import('../screens/tui.js');
  screens.catch(() => {}); // awaited below; a failure is reported there
  // One connection: its hello says whether an engine of this build answers.
  let client = await ControlClient.connect(paths.controlSocket, { timeoutMs: 1000 }).catch(() => null);
  if (client && client.hello.buildId !== buildId()) {
    const stale = client.hello;
    await client.close().catch(() => {});
    await retireStale(paths, stale, say);
    client = null;
  }
  const fronts = frontTools(paths);
  // The screens promise goes in as it is: an embedded engine starts while blessed loads.
  if (client) return attachedTui(paths, client, screens, fronts, say);
  return embeddedTui(paths, screens, fronts, say);
}

type Screens = typeof import('../screens/tui.js');
type FrontTools = Pick<TuiOptions, 'runSsh' | 'runImageShell'>;

/** ssh and the image shell, run from the TUI against whichever engine it talks to. */
function frontTools(paths: Paths): (api: EngineApi) => FrontTools {
  const runner = createRunner();
  const sshWith = (api: EngineApi) => async (name: string) => runner.interactive(await clientSshArgv(api, paths, name));
  const shellWith = (api: EngineApi) => async (image: string, saveAs: string | undefined) =>
    (
      await imageShell(
        api,
        { image, saveAs },
        {
          sshArgv: (vm) => clientSshArgv(api, paths, vm),
          interactive: (argv) => runner.interactive(argv),
          console: null,
          log: (line) => process.stderr.write(`${line}\n`),
        },
      )
    ).code;
  return (api) => ({ runSsh: sshWith(api), runImageShell: shellWith(api) });
}

/** An engine of this build answered: attach to it, following it across reconnects. */
async function attachedTui(
  paths: Paths,
  client: ControlClient,
  screens: Promise<Screens>,
  fronts: (api: EngineApi) => FrontTools,
  say: (s: string) => void,
): Promise<number> {
  const sw = new EngineSwitch(client);
  const link = new RemoteLink(paths, sw);
  const opts: TuiOptions = {
    mode: 'attached',
    ...fronts(sw),
    onQuit: async () => {
      await link.close();
    },
  };
  const tui = await (await screens).runTui(sw, opts);
  link.follow(client, tui);
  await tui.closed;
  if (link.exitMessage) say(link.exitMessage);
  return 0;
}

/** No engine: embed one (serving the socket too) and follow it through a handover. */
async function embeddedTui(
  paths: Paths,
  screens: Promise<Screens>,
  fronts: (api: EngineApi) => FrontTools,
  say: (s: string) => void,
): Promise<number> {
  const { startService } = await import('./serve.js');
  const svc = await startService('embedded');
  const sw = new EngineSwitch(svc.engine);
  // Set once the embedded engine handed over and the TUI follows the new one over the socket.
  let link: RemoteLink | null = null;
  let asked = false;
  let message = '';
  const opts: TuiOptions = {
    mode: 'embedded',
    ...fronts(sw),
    onQuit: async (choice) => {
      if (link) {
        await link.close();
        return;
      }
      asked = true;
      if (choice === 'stop-vms') {
        await svc.engine.shutdown({ stopVms: true });
        await svc.ended;
      } else if (choice === 'leave-running') {
        await svc.close();
        const r = await ensureEngine(spawnOptions(paths));
        await r.client.close();
        message = `banger: the engine keeps running in the background (pid ${r.hello.pid}); \`banger\` attaches again, \`banger engine stop\` stops it`;
      } else {
        await svc.close();
      }
    },
  };
  const tui = await (await screens).runTui(sw, opts);
  void svc.ended.then(async () => {
    if (asked) return;
    if (svc.endReason === 'handover') {
      tui.notify('the engine handed over to a newer build: attaching to it…');
      const client = await findEngine(paths.controlSocket, { windowMs: reconnectWindowMs(), cancelled: () => asked });
      if (client && !asked) {
        link = new RemoteLink(paths, sw);
        tui.setMode('attached');
        await sw.swap(client);
        link.follow(client, tui);
        await link.refetch(tui, client);
        return;
      }
      await client?.close();
      if (asked) return;
      message = 'banger: the engine handed over to a newer build: run banger again';
    } else {
      message = 'banger: the engine was stopped from elsewhere';
    }
    asked = true;
    tui.destroy();
  });
  await tui.closed;
  const followed = link as RemoteLink | null; // assigned in a callback: TS cannot see it
  if (followed?.exitMessage) message = followed.exitMessage;
  if (message) say(message);
  return 0;
}

/**
 * The attached TUI's connection: when it drops without us closing it, look for an engine on
 * the socket for a few seconds; reconnect and refetch every screen if one answers, else end
 * the TUI with a message.
 */
class RemoteLink {
  private client: ControlClient | null = null;
  private closing = false;
  exitMessage = '';

  constructor(
    private readonly paths: Paths,
    private readonly sw: EngineSwitch,
  ) {}

  follow(client: ControlClient, tui: TuiHandle): void {
    this.client = client;
    client.onClose(() => {
      if (!this.closing && this.client === client) void this.reconnect(tui);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.client?.close();
  }

  private async reconnect(tui: TuiHandle): Promise<void> {
    tui.notify('lost the engine connection: reconnecting…');
    const client = await findEngine(this.paths.controlSocket, {
      windowMs: reconnectWindowMs(),
      cancelled: () => this.closing,
    });
    if (this.closing) {
      await client?.close();
      return;
    }
    if (!client) {
      this.closing = true;
      this.exitMessage = 'banger: the engine stopped and none answers on its socket: run banger again';
      tui.destroy();
      return;
    }
    await this.sw.swap(client);
    this.follow(client, tui);
    await this.refetch(tui, client);
  }

  /** Events were missed while disconnected: every screen fetches its data again. */
  async refetch(tui: TuiHandle, client: ControlClient): Promise<void> {
    await tui.resync();
    if (this.closing) return;
    tui.notify(`connected to the engine (pid ${client.hello.pid})`);
  }
}
