// `banger vm create --help` shows what a VM gets when a flag is left out, from this host's
// config.json (what an engine started on demand reads), through the real CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { tmpState } from '../helpers/tmp.js';

test('vm create --help: the built-in defaults, then config.json’s', async () => {
  const s = tmpState('banger-create-help-');
  try {
    const env = { ...s.env, BANGER_NETWORK: '' };
    const plain = await cli(['vm', 'create', '--help'], env, { settingsAsConfig: false });
    assert.is(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /defaults in effect/);
    assert.match(plain.stdout, /--memory +256 MiB +\(defaultMemoryMib\)/);
    assert.match(plain.stdout, /--image +"default", else the only image/);
    mkdirSync(s.paths.configDir, { recursive: true });
    writeFileSync(
      s.paths.configFile,
      JSON.stringify({ defaultMemoryMib: 1024, defaultImage: 'dev', defaultDisk: '4G' }),
    );
    const set = await cli(['vm', 'create', '--help'], env, { settingsAsConfig: false });
    assert.match(set.stdout, /--memory +1024 MiB +\(defaultMemoryMib\)/);
    assert.match(set.stdout, /--image +dev +\(defaultImage\)/);
    assert.match(set.stdout, /--disk +4G +\(defaultDisk\)/);
  } finally {
    s.cleanup();
  }
});

test.run();
