// VM actions behind the keys: engine calls run in the background (the UI never waits on them),
// show "starting…" while in flight, and report failures as dismissable messages.
import type { ActionHost } from '../host.js';
import { confirmDialog } from '../widgets/dialogs.js';
import { FormDialog } from '../widgets/form.js';
import type { ActionId } from '../keys.js';
import { SnapshotActions } from './snapshots.js';
import { createFields, parseCreateForm } from './create-form.js';

export class VmActions {
  private snaps: SnapshotActions;
  constructor(private host: ActionHost) {
    this.snaps = new SnapshotActions(host);
  }

  /** false when the action is not a VM action. */
  run(a: ActionId): boolean {
    switch (a) {
      case 'start':
        this.vmCall('start', 'starting', (n) => this.host.engine.startVm(n));
        return true;
      case 'stop':
        this.vmCall('stop', 'stopping', (n) => this.host.engine.stopVm(n));
        return true;
      case 'restart':
        this.vmCall('restart', 'restarting', (n) => this.host.engine.restartVm(n));
        return true;
      case 'delete':
        this.deleteVm();
        return true;
      case 'create':
        this.createForm();
        return true;
      case 'ssh':
        void this.ssh();
        return true;
      case 'pause':
        this.pauseToggle();
        return true;
      case 'snapshot':
        this.vmCall('snapshot', 'snapshotting', (n) => this.host.engine.snapshotVm(n));
        return true;
      case 'suspend': {
        const name = this.target();
        if (name) this.snaps.suspend(name, (v, d, fn) => this.vmCall(v, d, fn));
        return true;
      }
      case 'snapshots': {
        const name = this.target();
        if (name) void this.snaps.open(name);
        return true;
      }
      default:
        return false;
    }
  }

  private target(): string | null {
    const name = this.host.selectedVm;
    if (!name) this.host.info('no VM selected');
    return name;
  }

  private vmCall(verb: string, doing: string, call: (name: string) => Promise<unknown>): void {
    const name = this.target();
    if (!name) return;
    const busy = this.host.pendingFor(name);
    if (busy) {
      this.host.info(`${name} is busy: ${busy}…`);
      return;
    }
    this.host.setPending(name, doing);
    call(name).then(
      () => {
        this.host.setPending(name, null);
        this.host.info(`${verb} ${name}: done`);
      },
      (err) => {
        this.host.setPending(name, null);
        this.host.showError(`${verb} ${name}`, err);
      },
    );
  }

  private deleteVm(): void {
    const name = this.target();
    if (!name) return;
    this.host.openModal(
      confirmDialog(
        this.host.screen,
        this.host.theme,
        'delete VM',
        `Delete VM ${name}, its disk and its snapshots?`,
        (yes) => {
          this.host.closeModal();
          if (!yes) return;
          this.host.setPending(name, 'deleting');
          this.host.engine.removeVm(name).then(
            () => {
              this.host.setPending(name, null);
              this.host.info(`deleted ${name}`);
            },
            (err) => {
              this.host.setPending(name, null);
              this.host.showError(`delete ${name}`, err);
            },
          );
        },
      ),
    );
  }

  private createForm(): void {
    const form: FormDialog = new FormDialog(
      this.host.screen,
      this.host.theme,
      'create VM',
      createFields(
        this.host.data.images.map((i) => i.name),
        this.host.data.kernels.map((k) => k.name),
        (this.host.data.status?.backends ?? []).filter((b) => b.available).map((b) => b.name),
      ),
      async (v) => {
        const parsed = parseCreateForm(v);
        if ('error' in parsed) {
          // Nothing is sent; the cursor goes to the field to fix.
          form.state.index = Math.max(
            0,
            form.state.fields.findIndex((f) => f.key === parsed.field),
          );
          return parsed.error;
        }
        try {
          const vm = await this.host.engine.createVm(parsed.input);
          // The cursor goes to the new VM, whether or not its event has arrived yet (over the
          // control socket it may come after this reply): s then starts this VM, not another.
          this.host.data.onEvent({ type: 'vm', vm });
          this.host.selectVm(vm.name);
          this.host.info(parsed.warning ? `created ${vm.name}; warning: ${parsed.warning}` : `created ${vm.name}`);
          return null;
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        }
      },
      () => this.host.closeModal(),
      () => this.host.requestRender(),
    );
    this.host.openModal(form);
  }

  private pauseToggle(): void {
    const name = this.target();
    if (!name) return;
    const vm = this.host.data.vms.find((v) => v.name === name);
    if (vm?.state === 'paused') this.vmCall('resume', 'resuming', (n) => this.host.engine.resumeVm(n));
    else this.vmCall('pause', 'pausing', (n) => this.host.engine.pauseVm(n));
  }

  /** Hand the terminal to the system ssh through the entry's callback, then come back. */
  async ssh(): Promise<void> {
    const name = this.target();
    if (!name) return;
    const runSsh = this.host.runSsh;
    if (!runSsh) {
      try {
        const info = await this.host.engine.sshInfo(name);
        this.host.info(`ssh: ${info.argv.join(' ')}`);
      } catch (err) {
        this.host.showError(`ssh ${name}`, err);
      }
      return;
    }
    try {
      const code = await this.host.suspend(() => runSsh(name));
      this.host.info(`ssh ${name} exited ${code}`);
    } catch (err) {
      this.host.showError(`ssh ${name}`, err);
    }
  }
}
