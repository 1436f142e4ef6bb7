// `vm show`'s detail block: what a developer gave the VM (first boot, run, folders, ports) is
// listed, and a plain VM shows no empty rows for them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { vmDetail } from '../../app/cli/table.js';
import { vmRecord } from '../helpers/builders.js';

test('a VM with folders, ports and --run shows each; a plain one shows none of those rows', () => {
  const vm = vmRecord({
    name: 'web',
    run: true,
    mounts: [{ hostDir: '/home/u/src', guestDir: '/src', readOnly: true, tag: 'm0' }],
    ports: [{ addr: '127.0.0.1', hostPort: 8080, guestPort: 80, proto: 'tcp' }],
  });
  const text = vmDetail(vm, 'vm');
  assert.match(text, /^mounts\s+\/home\/u\/src:\/src:ro$/m);
  assert.match(text, /^ports\s+127\.0\.0\.1:8080:80\/tcp$/m);
  assert.match(text, /^run\s+the image's Entrypoint\/Cmd, supervised$/m);
  const plain = vmDetail(vmRecord({ name: 'p' }), 'vm');
  assert.not.match(plain, /^(mounts|ports|run)\s/m);
  assert.match(plain, /^user-data\s+none$/m);
});

test.run();
