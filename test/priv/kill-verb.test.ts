// The kill verb's signal, in-process as root: through a pidfd (python3's pidfd_send_signal),
// only while the pid still shows the start time checked; a decoy running another program is
// refused at the check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/firecracker-sim-harness.js';
import { planKill, signalAction } from '../../app/priv/root/kill-verb.js';
import { Refusal, type Policy } from '../../app/priv/root/policy.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';

const it = runIf(test, NEEDS_ROOT ?? (spawnSync('python3', ['-V']).status === 0 ? null : 'no python3'));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

it('kill: a pidfd signal to the checked process only; a changed start time is refused', async () => {
  const base = tempDir('killverb-');
  const state = join(base, 'state');
  mkdirSync(state);
  const bin = join(base, 'firecracker');
  writeFileSync(bin, '#!/bin/sh\nwhile :; do sleep 1; done\n');
  chmodSync(bin, 0o755);
  const p: Policy = { user: 'root', uid: 0, gid: 0, bridges: [], subnets: [], dirs: [state], firecracker: bin };
  const vmm = spawn(bin, ['--api-sock', join(state, 'api.sock')], { stdio: 'ignore' });
  const decoy = spawn('sleep', ['30', '--api-sock', join(state, 'api.sock')], { stdio: 'ignore' });
  try {
    await wait(200);
    assert.throws(
      () => planKill(p, 'TERM', String(decoy.pid)),
      (e: unknown) => e instanceof Refusal,
      'the decoy',
    );
    const a = planKill(p, 'TERM', String(vmm.pid));
    assert.ok('argv' in a, 'through python3');
    const argv = (a as { argv: string[] }).argv;
    assert.match(argv[0], /^\/(usr\/)?bin\/python3$/, 'python3 by its root-owned path');
    assert.equal(argv.slice(1, 3), ['-I', '-c']);
    // Another start time: as if the pid now named a newer process.
    const moved = spawnSync(argv[0], [...argv.slice(1, -1), '1'], { encoding: 'utf8', cwd: '/' });
    assert.is(moved.status, 2, moved.stderr);
    assert.match(moved.stderr, /has exited \[E_PRIV_REFUSED\]/);
    await wait(100);
    assert.ok(alive(vmm), 'not signalled');
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: '/' });
    assert.is(r.status, 0, r.stderr);
    for (let i = 0; i < 100 && alive(vmm); i++) await wait(20);
    assert.is(vmm.signalCode, 'SIGTERM', 'the checked process got SIGTERM');
  } finally {
    vmm.kill('SIGKILL');
    decoy.kill('SIGKILL');
  }
});

it('kill without python3: by pid, only while /proc shows the start time checked', async () => {
  const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await wait(100);
    const stat = readFileSync(`/proc/${victim.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const stale = signalAction(victim.pid!, 'TERM', '1', []);
    assert.ok('run' in stale, 'no python3: an in-process signal');
    assert.throws(
      () => (stale as { run: () => void }).run(),
      (e: unknown) => e instanceof Refusal,
      'another start',
    );
    await wait(100);
    assert.ok(alive(victim), 'not signalled');
    (signalAction(victim.pid!, 'TERM', start, []) as { run: () => void }).run();
    for (let i = 0; i < 100 && alive(victim); i++) await wait(20);
    assert.is(victim.signalCode, 'SIGTERM');
  } finally {
    victim.kill('SIGKILL');
  }
});

test.run();
