// Suspend and the snapshot list behind the VM keys: X suspends (vm stop --save), n opens the
// selected VM's snapshots (name, size, age) where restore and delete each ask first, as
// `vm restore` and `vm snapshot rm` would run them. The list follows the engine's events.
import type { ActionHost } from '../host.js';
import { confirmDialog } from '../widgets/dialogs.js';
import { SnapshotListDialog } from '../widgets/snapshot-list.js';

export class SnapshotActions {
  constructor(private host: ActionHost) {}

  /** Confirmed: the guest's memory goes to disk and its VMM ends; `s` resumes it. */
  suspend(name: string, call: (verb: string, doing: string, fn: (n: string) => Promise<unknown>) => void): void {
    const vm = this.host.data.vms.find((v) => v.name === name);
    if (vm && vm.state !== 'running' && vm.state !== 'paused') {
      this.host.info(`${name} is ${vm.state}: only a running or paused VM can be suspended`);
      return;
    }
    call('suspend', 'suspending', (n) => this.host.engine.stopVm(n, { save: true }));
  }

  async open(name: string): Promise<void> {
    let rows;
    try {
      rows = await this.host.engine.listSnapshots(name);
    } catch (err) {
      this.host.showError(`snapshots of ${name}`, err);
      return;
    }
    let off: (() => void) | null = null;
    const close = () => {
      off?.();
      this.host.closeModal();
    };
    const dlg = new SnapshotListDialog(this.host.screen, this.host.theme, name, rows, {
      close,
      restore: (snap) =>
        this.ask(`restore ${name}`, `Put ${name} back to snapshot ${snap}? What runs now is replaced.`, () =>
          this.run(name, `restore ${snap}`, 'restoring', () => this.host.engine.restoreVm(name, snap)),
        ),
      remove: (snap) =>
        this.ask(`delete snapshot`, `Delete snapshot ${snap} of ${name}?`, () =>
          this.run(name, `delete snapshot ${snap}`, 'deleting snapshot', () =>
            this.host.engine.removeSnapshot(name, snap),
          ),
        ),
    });
    off = this.host.engine.subscribe((e) => {
      if (e.type !== 'snapshots' || e.vm !== name) return;
      this.host.engine.listSnapshots(name).then(
        (r) => {
          dlg.setRows(r);
          this.host.requestRender();
        },
        () => undefined,
      );
    });
    this.host.openModal(dlg);
  }

  private ask(title: string, question: string, yes: () => void): void {
    this.host.openModal(
      confirmDialog(this.host.screen, this.host.theme, title, question, (ok) => {
        this.host.closeModal();
        if (ok) yes();
      }),
    );
  }

  private run(name: string, what: string, doing: string, call: () => Promise<unknown>): void {
    const busy = this.host.pendingFor(name);
    if (busy) {
      this.host.info(`${name} is busy: ${busy}…`);
      return;
    }
    this.host.setPending(name, doing);
    call().then(
      () => {
        this.host.setPending(name, null);
        this.host.info(`${what} of ${name}: done`);
      },
      (err) => {
        this.host.setPending(name, null);
        this.host.showError(`${what} of ${name}`, err);
      },
    );
  }
}
