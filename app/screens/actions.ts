// Actions behind the keys: engine calls run in the background (the UI never waits on them),
// show "starting…" while in flight, and report failures as dismissable messages.
import type { App } from './app.js';
import { ChoiceDialog, confirmDialog } from './dialogs.js';
import { FormDialog, type FormValues } from './form.js';
import type { ActionId } from './keys.js';
import { IMAGE_SOURCES as ENGINE_IMAGE_SOURCES } from '../engine/api.js';

export type QuitChoice = 'leave-running' | 'stop-vms' | 'quit';

export const IMAGE_SOURCES = [...ENGINE_IMAGE_SOURCES];

/** Turn the create form's strings into engine input; null + message when invalid. */
export function parseCreateForm(
  v: FormValues,
): { input: import('../engine/api.js').VmCreateInput } | { error: string } {
  const name = v.name?.trim() ?? '';
  if (!name) return { error: 'name is required' };
  const vcpus = Number(v.vcpus);
  if (!Number.isInteger(vcpus) || vcpus < 1) return { error: `vCPUs must be a whole number >= 1, got "${v.vcpus}"` };
  const memoryMib = Number(v.memory);
  if (!Number.isInteger(memoryMib) || memoryMib < 1)
    return { error: `memory (MiB) must be a whole number, got "${v.memory}"` };
  const pick = (x: string | undefined) => (x && x !== '(default)' ? x : undefined);
  return {
    input: { name, image: pick(v.image), kernel: pick(v.kernel), vcpus, memoryMib, disk: v.disk?.trim() || undefined },
  };
}

export class VmActions {
  constructor(private app: App) {}

  run(a: ActionId): void {
    switch (a) {
      case 'start':
        return this.vmCall('start', 'starting', (n) => this.app.engine.startVm(n));
      case 'stop':
        return this.vmCall('stop', 'stopping', (n) => this.app.engine.stopVm(n));
      case 'restart':
        return this.vmCall('restart', 'restarting', (n) => this.app.engine.restartVm(n));
      case 'delete':
        return this.app.current === 'images' ? this.deleteImage() : this.deleteVm();
      case 'create':
        return this.createForm();
      case 'build':
        return this.buildForm();
      case 'ssh':
        void this.ssh();
        return;
      case 'pause':
        return this.pauseToggle();
      case 'snapshot':
        return this.vmCall('snapshot', 'snapshotting', (n) => this.app.engine.snapshotVm(n));
      case 'image-shell':
        return this.imageShellForm();
      case 'quit':
        void this.quit();
        return;
      default:
        return;
    }
  }

  private target(): string | null {
    const name = this.app.selectedVm;
    if (!name) this.app.info('no VM selected');
    return name;
  }

  private vmCall(verb: string, doing: string, call: (name: string) => Promise<unknown>): void {
    const name = this.target();
    if (!name) return;
    if (this.app.pending.has(name)) {
      this.app.info(`${name} is busy: ${this.app.pending.get(name)}…`);
      return;
    }
    this.app.setPending(name, doing);
    call(name).then(
      () => {
        this.app.setPending(name, null);
        this.app.info(`${verb} ${name}: done`);
      },
      (err) => {
        this.app.setPending(name, null);
        this.app.showError(`${verb} ${name}`, err);
      },
    );
  }

  private deleteVm(): void {
    const name = this.target();
    if (!name) return;
    this.app.openModal(
      confirmDialog(
        this.app.screen,
        this.app.theme,
        'delete VM',
        `Delete VM ${name}, its disk and its snapshots?`,
        (yes) => {
          this.app.closeModal();
          if (!yes) return;
          this.app.setPending(name, 'deleting');
          this.app.engine.removeVm(name).then(
            () => {
              this.app.setPending(name, null);
              this.app.info(`deleted ${name}`);
            },
            (err) => {
              this.app.setPending(name, null);
              this.app.showError(`delete ${name}`, err);
            },
          );
        },
      ),
    );
  }

  private deleteImage(): void {
    const img = (this.app.views.images as import('./images-view.js').ImagesView).selected;
    if (!img) return;
    this.app.openModal(
      confirmDialog(this.app.screen, this.app.theme, 'delete image', `Delete image ${img.name}?`, (yes) => {
        this.app.closeModal();
        if (yes)
          this.app.engine.removeImage(img.name).then(
            () => this.app.info(`deleted image ${img.name}`),
            (err) => this.app.showError(`delete image ${img.name}`, err),
          );
      }),
    );
  }

  private createForm(): void {
    const images = this.app.data.images.map((i) => i.name);
    const kernels = this.app.data.kernels.map((k) => k.name);
    const form = new FormDialog(
      this.app.screen,
      this.app.theme,
      'create VM',
      [
        { key: 'name', label: 'Name', kind: 'text', value: '', hint: 'a-z, 0-9 and -; reachable as NAME.vm' },
        {
          key: 'image',
          label: 'Image',
          kind: 'choice',
          value: images[0] ?? '(default)',
          options: images.length ? images : ['(default)'],
        },
        {
          key: 'kernel',
          label: 'Kernel',
          kind: 'choice',
          value: kernels[0] ?? '(default)',
          options: kernels.length ? kernels : ['(default)'],
        },
        { key: 'vcpus', label: 'vCPUs', kind: 'text', value: '1' },
        { key: 'memory', label: 'Memory MiB', kind: 'text', value: '256' },
        { key: 'disk', label: 'Disk', kind: 'text', value: '1G', hint: 'size like 512M or 4G' },
      ],
      async (v) => {
        const parsed = parseCreateForm(v);
        if ('error' in parsed) return parsed.error;
        try {
          const vm = await this.app.engine.createVm(parsed.input);
          // The cursor goes to the new VM, whether or not its event has arrived yet (over the
          // control socket it may come after this reply): s then starts this VM, not another.
          this.app.data.onEvent({ type: 'vm', vm });
          this.app.vmsView.selectByName(vm.name);
          this.app.info(`created ${vm.name}`);
          return null;
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        }
      },
      () => this.app.closeModal(),
      () => this.app.requestRender(),
    );
    this.app.openModal(form);
  }

  private buildForm(): void {
    const form = new FormDialog(
      this.app.screen,
      this.app.theme,
      'build image',
      [
        { key: 'name', label: 'Name', kind: 'text', value: '' },
        { key: 'from', label: 'Source', kind: 'choice', value: IMAGE_SOURCES[0]!, options: IMAGE_SOURCES },
        { key: 'size', label: 'Size', kind: 'text', value: '', hint: 'optional, e.g. 2G' },
      ],
      async (v) => {
        if (!v.name?.trim()) return 'name is required';
        // The build runs in the background: the form closes and progress shows on Images.
        const name = v.name.trim();
        this.app.engine.buildImage({ name, from: v.from!, size: v.size?.trim() || undefined }).then(
          () => this.app.info(`built image ${name}`),
          (err) => this.app.showError(`build ${name}`, err),
        );
        this.app.switchTo('images');
        return null;
      },
      () => this.app.closeModal(),
      () => this.app.requestRender(),
    );
    this.app.openModal(form);
  }

  private pauseToggle(): void {
    const name = this.target();
    if (!name) return;
    const vm = this.app.data.vms.find((v) => v.name === name);
    if (vm?.state === 'paused') this.vmCall('resume', 'resuming', (n) => this.app.engine.resumeVm(n));
    else this.vmCall('pause', 'pausing', (n) => this.app.engine.pauseVm(n));
  }

  /** Leave the alternate screen, run the system ssh through the entry's callback, come back. */
  async ssh(): Promise<void> {
    const name = this.target();
    if (!name) return;
    const runSsh = this.app.opts.runSsh;
    if (!runSsh) {
      try {
        const info = await this.app.engine.sshInfo(name);
        this.app.info(`ssh: ${info.argv.join(' ')}`);
      } catch (err) {
        this.app.showError(`ssh ${name}`, err);
      }
      return;
    }
    await this.onTerminal(`ssh ${name}`, () => runSsh(name));
  }

  /** e on Images: a throwaway VM of the image; the form asks whether to keep the disk. */
  private imageShellForm(): void {
    const img = (this.app.views.images as import('./images-view.js').ImagesView).selected;
    const run = this.app.opts.runImageShell;
    if (!img) return this.app.info('no image selected');
    if (!run) return this.app.info(`image shell: banger image shell ${img.name} [--save-as NEW]`);
    const form = new FormDialog(
      this.app.screen,
      this.app.theme,
      `shell in image ${img.name}`,
      [{ key: 'saveAs', label: 'Save as', kind: 'text', value: '', hint: 'a new image name; empty: discard on exit' }],
      async (v) => {
        const saveAs = v.saveAs?.trim() || undefined;
        // After the form has closed (returning null closes it): then hand the terminal over.
        setImmediate(() => void this.onTerminal(`image shell ${img.name}`, () => run(img.name, saveAs)));
        return null;
      },
      () => this.app.closeModal(),
      () => this.app.requestRender(),
    );
    this.app.openModal(form);
  }

  private async onTerminal(label: string, fn: () => Promise<number>): Promise<void> {
    const screen = this.app.screen;
    const program = screen.program;
    this.app.suspended = true;
    const write = program.output.write;
    program.normalBuffer();
    program.showCursor();
    program.input.pause();
    const input = program.input as NodeJS.ReadStream;
    input.setRawMode?.(false);
    // blessed must not draw over ssh while it runs.
    (program.output as { write: unknown }).write = () => true;
    let code: number | null = null;
    let failure: unknown = null;
    try {
      code = await fn();
    } catch (err) {
      failure = err;
    }
    (program.output as { write: unknown }).write = write;
    input.setRawMode?.(true);
    program.input.resume();
    program.alternateBuffer();
    program.hideCursor();
    this.app.suspended = false;
    screen.alloc();
    this.app.relayout();
    if (failure) this.app.showError(label, failure);
    else this.app.info(`${label} exited ${code}`);
  }

  /** q: ask about running VMs when the engine lives in this process, then hand over. */
  async quit(): Promise<void> {
    const running = this.app.data.vms.some((v) => v.state === 'running' || v.state === 'starting');
    if (this.app.opts.mode === 'embedded' && running) {
      this.app.openModal(
        new ChoiceDialog<QuitChoice>(
          this.app.screen,
          this.app.theme,
          'quit',
          'VMs are running and the engine lives in this TUI. Keep the engine (and VMs, consoles, DNS) running in the background?',
          [
            { key: 'l', label: 'leave the engine and VMs running', value: 'leave-running' },
            { key: 's', label: 'stop all VMs and quit', value: 'stop-vms' },
          ],
          (choice) => {
            this.app.closeModal();
            if (choice) void this.finish(choice);
          },
        ),
      );
      return;
    }
    await this.finish('quit');
  }

  private async finish(choice: QuitChoice): Promise<void> {
    this.app.info(choice === 'stop-vms' ? 'stopping VMs…' : 'quitting…');
    this.app.screen.render();
    await this.app.quitWith(choice);
  }
}
