// i on Images: import an image from a registry, an OCI layout or archive (or a local path),
// in the background; its progress (bytes fetched, each layer applied) shows in the builds
// list. x cancels the running build, which leaves nothing behind.
import type { ActionHost } from '../host.js';
import { FormDialog } from '../widgets/form.js';
import { confirmDialog } from '../widgets/dialogs.js';
import { isTransportRef, parseImageRef, parsePlatform } from '../../contract/image-ref.js';

export function importImageForm(host: ActionHost): void {
  const form = new FormDialog(
    host.screen,
    host.theme,
    'import image',
    [
      { key: 'name', label: 'Name', kind: 'text', value: '' },
      {
        key: 'ref',
        label: 'Image',
        kind: 'text',
        value: 'docker://',
        hint: 'docker://HOST/REPO:TAG, oci:DIR, oci-archive:FILE, docker-archive:FILE or a path',
      },
      { key: 'platform', label: 'Platform', kind: 'text', value: 'linux/amd64' },
      { key: 'tls', label: 'Verify TLS', kind: 'choice', value: 'true', options: ['true', 'false'] },
    ],
    async (v) => {
      const name = v.name?.trim();
      const ref = v.ref?.trim() ?? '';
      if (!name) return 'name is required';
      // The engine's rules, checked here so the form says what is wrong before it closes.
      try {
        if (isTransportRef(ref)) parseImageRef(ref);
        else if (!ref.startsWith('/')) return 'a transport REF or an absolute path';
        parsePlatform(v.platform?.trim() || 'linux/amd64');
      } catch (err) {
        return (err as Error).message;
      }
      host.engine
        .importImage({ name, path: ref, platform: v.platform?.trim() || undefined, tlsVerify: v.tls !== 'false' })
        .then(
          () => host.info(`imported image ${name}`),
          (err) => host.showError(`import ${name}`, err),
        );
      host.switchTo('images');
      return null;
    },
    () => host.closeModal(),
    () => host.requestRender(),
  );
  host.openModal(form);
}

export function cancelBuild(host: ActionHost): void {
  const b = [...host.data.builds.values()].find((x) => x.state === 'running');
  if (!b) return host.info('no build running');
  host.openModal(
    confirmDialog(host.screen, host.theme, 'cancel build', `Cancel the ${b.kind} build of ${b.name}?`, (yes) => {
      host.closeModal();
      if (yes)
        host.engine.cancelBuild(b.id).then(
          () => host.info(`cancelled ${b.name}`),
          (err) => host.showError(`cancel ${b.name}`, err),
        );
    }),
  );
}
