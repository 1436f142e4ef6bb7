// q: with VMs running or paused in an engine that lives in this TUI, ask whether to keep them (the
// engine moves to the background) or stop them; otherwise quit at once.
import type { VmState } from '../../contract/api.js';
import type { ActionHost, QuitChoice } from '../host.js';
import { ChoiceDialog } from '../widgets/dialogs.js';

/** VM states that need an engine: a paused VM left without one can never be resumed from here. */
const LIVE = new Set<VmState>(['running', 'starting', 'paused']);

export async function quit(host: ActionHost): Promise<void> {
  const live = host.data.vms.filter((v) => LIVE.has(v.state));
  if (host.mode === 'embedded' && live.length) {
    const names = live.slice(0, 4).map((v) => `${v.name} ${v.state}`);
    if (live.length > 4) names.push(`${live.length - 4} more`);
    host.openModal(
      new ChoiceDialog<QuitChoice>(
        host.screen,
        host.theme,
        'quit',
        // A paused VM counts as running here: it needs the engine as much. Its line says which.
        `VMs are running and the engine lives in this TUI. Keep the engine (and VMs, consoles, DNS) running in the background?\n${names.join(', ')}`,
        [
          { key: 'l', label: 'leave the engine and VMs running', value: 'leave-running' },
          { key: 's', label: 'stop all VMs and quit', value: 'stop-vms' },
        ],
        (choice) => {
          host.closeModal();
          if (choice) void finish(host, choice);
        },
      ),
    );
    return;
  }
  await finish(host, 'quit');
}

async function finish(host: ActionHost, choice: QuitChoice): Promise<void> {
  host.info(choice === 'stop-vms' ? 'stopping VMs…' : 'quitting…');
  host.screen.render();
  await host.quitWith(choice);
}
