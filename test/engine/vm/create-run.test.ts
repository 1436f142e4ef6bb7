// vm create --run: refused with E_NO_RUN_COMMAND (nothing written) unless the image has an OCI
// config with an Entrypoint or Cmd; kept on the record when it has.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createEngine } from '../../../app/engine/wiring.js';
import { Store } from '../../../app/engine/store.js';
import { ensureBaseDirs } from '../../../app/base/paths.js';
import { tmpState, type TmpState } from '../../helpers/tmp.js';
import type { Engine } from '../../../app/engine/engine.js';
import type { ImageConfig } from '../../../app/contract/api.js';
import { nullLogger } from '../../../app/base/log.js';

let t: TmpState;
let engine: Engine;
let store: Store;

const config = (c: Partial<ImageConfig>): ImageConfig => ({
  env: [],
  entrypoint: [],
  cmd: [],
  workingDir: null,
  user: null,
  exposedPorts: [],
  ...c,
});

test.before.each(() => {
  t = tmpState();
  ensureBaseDirs(t.paths);
  store = new Store(t.paths.dbFile);
  engine = createEngine({ env: t.env, logger: nullLogger, store });
  const path = join(t.root, 'img.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', path, '8M']); // vm create copies and checks it
  const now = new Date().toISOString();
  const image = (name: string, c: ImageConfig | null) =>
    store.insertImage({
      name,
      source: 'test',
      path,
      sizeBytes: statSync(path).size,
      sha256: 'x',
      buildLog: null,
      createdAt: now,
      config: c,
    });
  image('built', null);
  image('empty', config({}));
  image('web', config({ entrypoint: ['/bin/httpd'], cmd: ['-f'] }));
});
test.after.each(() => {
  store.close();
  t.cleanup();
});

async function refused(image: string, message: RegExp): Promise<void> {
  try {
    await engine.createVm({ name: 'r', image, run: true });
    assert.unreachable('should have been refused');
  } catch (e) {
    const err = e as { code: string; message: string };
    assert.is(err.code, 'E_NO_RUN_COMMAND');
    assert.match(err.message, message);
  }
  assert.is(store.listVms().length, 0, 'no VM recorded');
  assert.equal(readdirSync(t.paths.vmsDir), [], 'no VM dir made');
}

test('--run on an image without an OCI config is refused', () => refused('built', /image "built" has no OCI config/));
test('--run on an image with neither Entrypoint nor Cmd is refused', () =>
  refused('empty', /image "empty" has no Entrypoint or Cmd/));
test('--run on an image with an Entrypoint is kept on the record; without --run it is off', async () => {
  const vm = await engine.createVm({ name: 'w', image: 'web', run: true });
  assert.is(vm.run, true);
  assert.is(store.getVm('w')!.run, true, 'stored');
  const plain = await engine.createVm({ name: 'p', image: 'web' });
  assert.is(!!store.getVm(plain.name)!.run, false);
});

test.run();
