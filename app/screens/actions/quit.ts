// q: with VMs running in an engine that lives in this TUI, ask whether to keep them (the
// engine moves to the background) or stop them; otherwise quit at once.
import type { ActionHost, QuitChoice } from '../host.js';
import { ChoiceDialog } from '../widgets/dialogs.js';

export async function quit(host: ActionHost): Promise<void> {
  const running = host.data.vms.some((v) => v.state === 'running' || v.state === 'starting');
  if (host.mode === 'embedded' && running) {
    host.openModal(
      new ChoiceDialog<QuitChoice>(
        host.screen,
        host.theme,
        'quit',
        'VMs are running and the engine lives in this TUI. Keep the engine (and VMs, consoles, DNS) running in the background?',
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
