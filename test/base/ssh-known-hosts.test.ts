// A deleted VM's pinned host key goes with it: forgetHostKey drops exactly that name's entries
// (plain or [name]:port, alone or in a list), and the engine calls it when a VM is removed, so
// `ssh NAME.vm` to a new VM of the same name is not refused as a changed host key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetHostKey, sshKnownHostsFile } from '../../app/base/ssh-known-hosts.js';
import { simEngine } from '../helpers/engine.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB';

test('forgetHostKey drops only that host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-kh-'));
  try {
    const f = join(dir, 'known_hosts');
    writeFileSync(
      f,
      [`web.vm ${KEY}1`, `db.vm ${KEY}2`, `[web.vm]:2222 ${KEY}3`, `x,web.vm ${KEY}4`, `webx.vm ${KEY}5`, ''].join(
        '\n',
      ),
    );
    assert.ok(forgetHostKey(f, 'web.vm'));
    assert.is(readFileSync(f, 'utf8'), [`db.vm ${KEY}2`, `webx.vm ${KEY}5`, ''].join('\n'));
    assert.not.ok(forgetHostKey(f, 'web.vm'), 'nothing left to drop');
    assert.not.ok(forgetHostKey(join(dir, 'none'), 'web.vm'), 'no file: nothing to do');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the engine drops a removed VM's key, and only its", async () => {
  const te = await simEngine();
  try {
    await te.engine.createVm({ name: 'web' });
    const f = sshKnownHostsFile(te.t.paths);
    writeFileSync(f, `web.vm ${KEY}1\ndb.vm ${KEY}2\n`);
    await te.engine.removeVm('web');
    assert.is(readFileSync(f, 'utf8'), `db.vm ${KEY}2\n`);
  } finally {
    await te.close();
  }
});

test.run();
