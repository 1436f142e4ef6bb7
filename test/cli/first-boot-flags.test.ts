// vm create's first-boot flags in the command tree: completion offers them and file names for
// their values; the verb's help names them with an example.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { complete } from '../../app/cli/complete.js';
import { rmSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { tmpState } from '../helpers/tmp.js';

test('completion: --user-data and --ssh-key on vm create, file names for their values', async () => {
  const flags = (await complete(['vm', 'create', 'web', '--'], null)).candidates.map((c) => c.value);
  for (const f of ['--user-data', '--ssh-key']) assert.ok(flags.includes(f), `${f} in ${flags.join(' ')}`);
  assert.is((await complete(['vm', 'create', 'web', '--user-data', ''], null)).directive, 0, 'file names');
  assert.is((await complete(['vm', 'create', 'web', '--ssh-key', ''], null)).directive, 0, 'file names');
});

test('help: the flags, what they take, an example', async () => {
  const t = tmpState();
  const r = await cli(['vm', 'create', '--help'], t.env).finally(() =>
    rmSync(t.root, { recursive: true, force: true }),
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /--user-data FILE\s+first-boot config: a #cloud-config file or a #! script/);
  assert.match(r.stdout, /--ssh-key FILE\s+a public key for root's authorized_keys \(repeatable\)/);
  assert.match(r.stdout, /banger vm create web --user-data cloud\.yaml --ssh-key/);
});

test.run();
