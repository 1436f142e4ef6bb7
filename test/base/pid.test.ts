import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { pidAlive } from '../../app/base/pid.js';

test('a live process is alive; an exited, unreaped one (zombie) and a reaped one are not', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  assert.ok(pidAlive(child.pid!));
  // Keep Node from reaping it at once: stop listening for its exit, kill it, look while it is a zombie.
  process.kill(child.pid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 50));
  assert.not.ok(pidAlive(child.pid!), 'killed: zombie or reaped, dead either way');
  assert.not.ok(pidAlive(0));
  assert.not.ok(pidAlive(-5));
  assert.ok(pidAlive(process.pid));
});

test.run();
