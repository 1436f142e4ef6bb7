// Image and kernel actions on the Images screen: build an image, fetch a kernel, delete the
// selected image or kernel. Builds run in the background; progress shows in the builds list.
import { IMAGE_SOURCES as ENGINE_IMAGE_SOURCES } from '../../contract/api.js';
import type { ActionHost } from '../host.js';
import { confirmDialog } from '../widgets/dialogs.js';
import { FormDialog } from '../widgets/form.js';
import type { ActionId } from '../keys.js';
import { cancelBuild, importImageForm } from './image-import.js';

export const IMAGE_SOURCES = [...ENGINE_IMAGE_SOURCES];

export class ImageActions {
  constructor(private host: ActionHost) {}

  /** false when the action is not an image or kernel action. */
  run(a: ActionId): boolean {
    switch (a) {
      case 'build':
        this.buildForm();
        return true;
      case 'fetch-kernel':
        this.fetchKernelForm();
        return true;
      case 'import-image':
        importImageForm(this.host);
        return true;
      case 'cancel-build':
        cancelBuild(this.host);
        return true;
      case 'image-shell':
        this.imageShellForm();
        return true;
      case 'delete':
        // d applies to whichever table has the focus.
        if (this.host.selectedKernel()) this.deleteKernel();
        else this.deleteImage();
        return true;
      default:
        return false;
    }
  }

  private deleteImage(): void {
    const img = this.host.selectedImage();
    if (!img) return;
    this.confirm('delete image', `Delete image ${img.name}?`, () =>
      this.host.engine.removeImage(img.name).then(
        () => this.host.info(`deleted image ${img.name}`),
        (err) => this.host.showError(`delete image ${img.name}`, err),
      ),
    );
  }

  private deleteKernel(): void {
    const k = this.host.selectedKernel();
    if (!k) return;
    this.confirm('delete kernel', `Delete kernel ${k.name}?`, () =>
      this.host.engine.removeKernel(k.name).then(
        () => this.host.info(`deleted kernel ${k.name}`),
        (err) => this.host.showError(`delete kernel ${k.name}`, err),
      ),
    );
  }

  private confirm(title: string, question: string, then: () => void): void {
    this.host.openModal(
      confirmDialog(this.host.screen, this.host.theme, title, question, (yes) => {
        this.host.closeModal();
        if (yes) then();
      }),
    );
  }

  private buildForm(): void {
    const form = new FormDialog(
      this.host.screen,
      this.host.theme,
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
        this.host.engine.buildImage({ name, from: v.from!, size: v.size?.trim() || undefined }).then(
          () => this.host.info(`built image ${name}`),
          (err) => this.host.showError(`build ${name}`, err),
        );
        this.host.switchTo('images');
        return null;
      },
      () => this.host.closeModal(),
      () => this.host.requestRender(),
    );
    this.host.openModal(form);
  }

  private fetchKernelForm(): void {
    const form = new FormDialog(
      this.host.screen,
      this.host.theme,
      'fetch kernel',
      [{ key: 'name', label: 'Name', kind: 'text', value: 'default', hint: 'the Debian kernel, made bootable' }],
      async (v) => {
        const name = v.name?.trim();
        if (!name) return 'name is required';
        this.host.engine.fetchKernel(name).then(
          () => this.host.info(`fetched kernel ${name}`),
          (err) => this.host.showError(`fetch kernel ${name}`, err),
        );
        return null;
      },
      () => this.host.closeModal(),
      () => this.host.requestRender(),
    );
    this.host.openModal(form);
  }

  /** e on Images: a throwaway VM of the image; the form asks whether to keep the disk. */
  private imageShellForm(): void {
    const img = this.host.selectedImage();
    const run = this.host.runImageShell;
    if (!img) return this.host.info('no image selected');
    if (!run) return this.host.info(`image shell: banger image shell ${img.name} [--save-as NEW]`);
    const label = `image shell ${img.name}`;
    const form = new FormDialog(
      this.host.screen,
      this.host.theme,
      `shell in image ${img.name}`,
      [{ key: 'saveAs', label: 'Save as', kind: 'text', value: '', hint: 'a new image name; empty: discard on exit' }],
      async (v) => {
        const saveAs = v.saveAs?.trim() || undefined;
        // After the form has closed (returning null closes it): then hand the terminal over.
        setImmediate(() =>
          this.host
            .suspend(() => run(img.name, saveAs))
            .then(
              (code) => this.host.info(`${label} exited ${code}`),
              (err) => this.host.showError(label, err),
            ),
        );
        return null;
      },
      () => this.host.closeModal(),
      () => this.host.requestRender(),
    );
    this.host.openModal(form);
  }
}
