// The engine closes a VM's exec master when the VM stops and removes what a dead one left: here
// against a socket that is not an ssh master (ssh -O exit fails on it, the files still go), and
// with no socket at all. The real master's close is in test/e2e/qemu-exec.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '../../../app/base/process.js';
import { sshControlPath } from '../../../app/base/paths.js';
import { closeSshMaster, forgetSshMaster } from '../../../app/engine/vm/ssh-master.js';

const vm = { id: 'abc123', ip: '10.0.0.2' };

function setup(): { dir: string; cp: string } {
  const dir = mkdtempSync(join(tmpdir(), 'banger-sshm-'));
  mkdirSync(join(dir, 'ssh'));
  return { dir, cp: sshControlPath(dir, vm.id, vm.ip) };
}

test('stop: a socket that answers but is no master, and its lock files, are gone after close', async () => {
  const { dir, cp } = setup();
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(cp, r));
  writeFileSync(`${cp}.session`, '1');
  writeFileSync(`${cp}.lock`, '');
  try {
    await closeSshMaster(createRunner(), dir, vm);
    for (const f of [cp, `${cp}.session`, `${cp}.lock`]) assert.not.ok(existsSync(f), `${f} removed`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no IP or no socket: nothing to do, nothing thrown; delete removes a dead master’s file', async () => {
  const { dir, cp } = setup();
  await closeSshMaster(createRunner(), dir, { id: vm.id, ip: null });
  await closeSshMaster(createRunner(), dir, vm);
  writeFileSync(cp, '');
  forgetSshMaster(dir, vm);
  assert.not.ok(existsSync(cp));
  rmSync(dir, { recursive: true, force: true });
});

test.run();
