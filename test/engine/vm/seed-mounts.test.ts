// The seed's mounts section: banger/mounts, one "TAG GUESTDIR MODE TRANSPORT" line per folder,
// nothing for a VM without folders; it goes into the seed with the other sections.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mountsSection } from '../../../app/engine/vm/seed/mounts.js';
import { collectSeedFiles } from '../../../app/engine/vm/seed/sections.js';
import { vmRecord } from '../../helpers/builders.js';

test('no folders: no file', () => {
  assert.equal(mountsSection.files({ vm: vmRecord({ name: 'a' }), image: null }), {});
});

test('one line per folder, in order, with its mode and transport', () => {
  const vm = vmRecord({
    name: 'a',
    mounts: [
      { hostDir: '/h/src', guestDir: '/src', readOnly: false, tag: 'm0' },
      { hostDir: '/h/data', guestDir: '/mnt/data', readOnly: true, tag: 'm1' },
    ],
  });
  const files = collectSeedFiles({ vm, image: null });
  assert.is(files['banger/mounts'], 'm0 /src rw virtiofs\nm1 /mnt/data ro virtiofs\n');
});

test.run();
