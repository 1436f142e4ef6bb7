// A QEMU snapshot leaves nothing pending in the engine's event loop: its deadline timer was a
// five-minute sleep that outlived the save, so quitting the TUI after a snapshot hung until it
// fired (issue 25 #1). A real QEMU (held at -S, nothing to boot) streams its state to the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner, which } from '../../../app/base/process.js';
import { qemuSaveSnapshot } from '../../../app/engine/qemu/snapshot.js';
import { runIf } from '../../helpers/skip.js';

const QEMU = which('qemu-system-x86_64');
const real = runIf(test, QEMU ? null : 'missing qemu-system-x86_64 (apt-get install qemu-system-x86)');
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

real('after qemuSaveSnapshot resolves, no timer of it is left', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-qemu-snap-'));
  const sock = join(root, 'qmp.sock');
  const p = createRunner().spawn(
    [QEMU!, '-M', 'microvm', '-m', '16', '-accel', 'tcg', '-nodefaults', '-no-user-config', '-nographic', '-S'].concat([
      '-qmp',
      `unix:${sock},server=on,wait=off`,
    ]),
    { stdio: 'ignore', detached: true },
  );
  try {
    const deadline = Date.now() + 10_000;
    while (!existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const before = timers();
    const files = {
      dir: root,
      state: join(root, 'state'),
      memory: join(root, 'memory'),
      disk: join(root, 'disk'),
      channel: join(root, 'mig.sock'),
    };
    await qemuSaveSnapshot({ pid: p.pid, socketPath: sock }, files);
    assert.ok(statSync(files.state).size > 0, 'the stream was written');
    await new Promise((r) => setImmediate(r));
    assert.is(timers(), before, `timers left: ${process.getActiveResourcesInfo().join(', ')}`);
  } finally {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
