// Bare `banger`: attach the TUI to the running engine, or embed one (which also serves the
// control socket, so CLI verbs work meanwhile). Quitting with VMs running can leave the
// engine in the background: the embedded one steps aside and a detached one adopts the VMs.
import { ControlClient, ping } from '../control/client.js';
import { ensureEngine } from '../control/detach.js';
import { runTui } from '../screens/tui.js';
import { createRunner } from '../engine/process.js';
import type { EngineApi } from '../engine/api.js';
import { startService } from './serve.js';
import { retireStale, spawnOptions } from './connect.js';
import { buildId } from '../buildid.js';
import type { Paths } from '../paths.js';

export async function tuiMain(paths: Paths): Promise<number> {
  const say = (s: string) => process.stderr.write(s + '\n');
  let hello = await ping(paths.controlSocket, { timeoutMs: 1000 });
  if (hello && hello.buildId !== buildId()) {
    await retireStale(paths, hello, say);
    hello = null;
  }
  const runner = createRunner();
  const sshWith = (api: EngineApi) => async (name: string) => runner.interactive((await api.sshInfo(name)).argv);

  if (hello) {
    const client = await ControlClient.connect(paths.controlSocket);
    const tui = await runTui(client, { mode: 'attached', runSsh: sshWith(client), onQuit: async () => { await client.close(); } });
    await tui.closed;
    return 0;
  }

  const svc = await startService('embedded');
  let message = '';
  const tui = await runTui(svc.engine, {
    mode: 'embedded',
    runSsh: sshWith(svc.engine),
    onQuit: async (choice) => {
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
  });
  await tui.closed;
  if (message) say(message);
  return 0;
}
