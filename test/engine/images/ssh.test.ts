import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { ensureSshKey } from '../../../app/engine/images/ssh.js';
import { sshArgv } from '../../../app/contract/ssh-argv.js';
import { makeEnv } from './helpers.js';

test('ensureSshKey makes one ed25519 key, private to the user, and reuses it', async () => {
  const env = makeEnv();
  try {
    const [a, b] = await Promise.all([ensureSshKey(env.runner, env.paths), ensureSshKey(env.runner, env.paths)]);
    assert.is(a.publicKey, b.publicKey);
    assert.match(a.publicKey, /^ssh-ed25519 \S+ banger$/);
    assert.is(statSync(env.paths.sshKey).mode & 0o777, 0o600);
    assert.is(statSync(env.paths.keysDir).mode & 0o777, 0o700);
    const again = await ensureSshKey(env.runner, env.paths);
    assert.is(again.publicKey, a.publicKey);
    assert.match(readFileSync(env.paths.sshKey, 'utf8'), /OPENSSH PRIVATE KEY/);
  } finally {
    env.cleanup();
  }
});

test('sshArgv: system ssh, banger key only, per-VM known_hosts', () => {
  assert.equal(sshArgv('172.30.0.5', '/k/id', '/vm/known_hosts'), [
    'ssh',
    '-i',
    '/k/id',
    '-o',
    'UserKnownHostsFile=/vm/known_hosts',
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    'root@172.30.0.5',
  ]);
  assert.equal(sshArgv('10.0.0.2', 'k', 'h', ['uname', '-a']).slice(-3), ['root@10.0.0.2', 'uname', '-a']);
  assert.throws(
    () => sshArgv('evil;rm', 'k', 'h'),
    (e: Error & { code?: string }) => e.code === 'E_INVALID_ARGUMENT',
  );
});

test.run();
