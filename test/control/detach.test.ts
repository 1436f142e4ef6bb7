import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ping } from '../../app/control/client.js';
import { ensureEngine, spawnDetachedEngine, waitForEngine } from '../../app/control/detach.js';
import { acquireEngineLock, lockHolder } from '../../app/control/lock.js';
import { pidAlive as isAlive } from '../../app/base/pid.js';
import { ControlServer } from '../../app/control/server.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { createRunner } from '../../app/base/process.js';
import { BangerError } from '../../app/base/errors.js';
import { tempDir, until } from './helpers.js';

const runner = createRunner();
const SERVE = fileURLToPath(new URL('./fixtures/serve-fake.ts', import.meta.url));

function setup() {
  const t = tempDir();
  return {
    ...t,
    socketPath: join(t.dir, 'run', 'engine.sock'),
    lockFile: join(t.dir, 'engine.lock'),
    logFile: join(t.dir, 'state', 'engine.log'),
  };
}

/** Session id of a process (field 6 of /proc/PID/stat): a detached engine leads its own. */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

async function expectFailure(p: Promise<unknown>): Promise<BangerError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    return err as BangerError;
  }
  throw new Error('expected a failure');
}

test('ensureEngine starts a detached engine once, then attaches to it', async () => {
  const s = setup();
  const argv = [process.execPath, '--import', 'tsx', SERVE, s.socketPath, s.lockFile];
  let pid = 0;
  try {
    const first = await ensureEngine({ spawnArgv: argv, socketPath: s.socketPath, logFile: s.logFile, runner });
    pid = first.hello.pid;
    assert.is(first.started, true);
    assert.is(first.hello.buildId, 'fixture');
    assert.ok(isAlive(pid));
    assert.is(sessionOf(pid), pid, 'the engine leads its own session (detached)');
    assert.is(statSync(s.logFile).mode & 0o777, 0o600);
    await until(() => readFileSync(s.logFile, 'utf8').includes(`engine ${pid} listening`));
    await first.client.createVm({ name: 'bg' });
    await first.client.close();

    const second = await ensureEngine({ spawnArgv: argv, socketPath: s.socketPath, logFile: s.logFile, runner });
    assert.is(second.started, false);
    assert.is(second.hello.pid, pid);
    assert.equal(
      (await second.client.listVms()).map((v) => v.name),
      ['bg'],
      'same engine, same state',
    );
    await second.client.shutdown();
    await until(() => !isAlive(pid), 5000);
    assert.is(await ping(s.socketPath), null);
  } finally {
    if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    s.cleanup();
  }
});

test('two front ends starting at once end up on one engine; the other start backs off', async () => {
  const s = setup();
  const argv = [process.execPath, '--import', 'tsx', SERVE, s.socketPath, s.lockFile];
  const pids = new Set<number>();
  try {
    const [a, b] = await Promise.all([
      ensureEngine({ spawnArgv: argv, socketPath: s.socketPath, logFile: s.logFile, runner }),
      ensureEngine({ spawnArgv: argv, socketPath: s.socketPath, logFile: s.logFile, runner }),
    ]);
    pids.add(a.hello.pid);
    assert.is(b.hello.pid, a.hello.pid, 'both talk to the same engine');
    assert.is(Number(a.started) + Number(b.started), 1, 'exactly one of them started it');
    // the start that lost sees the winner's lock and exits on its own
    const loser = (a.started ? b : a).spawnedPid;
    if (loser) {
      pids.add(loser);
      await until(() => !isAlive(loser), 8000);
    }
    await a.client.createVm({ name: 'shared' });
    assert.is((await b.client.getVm('shared')).name, 'shared');
    await b.client.close();
    await a.client.shutdown();
    await until(() => !isAlive(a.hello.pid), 5000);
  } finally {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    s.cleanup();
  }
});

test('stale-engine handover: the old engine steps aside, its lock and socket become ours', async () => {
  const s = setup();
  const argv = [process.execPath, '--import', 'tsx', SERVE, s.socketPath, s.lockFile];
  let pid = 0;
  try {
    const old = await ensureEngine({ spawnArgv: argv, socketPath: s.socketPath, logFile: s.logFile, runner });
    pid = old.hello.pid;
    assert.is(lockHolder(s.lockFile), pid);
    assert.equal(await old.client.handover(), { pid });
    const lock = await acquireEngineLock(s.lockFile, { waitMs: 5000 });
    const server = new ControlServer({ engine: new FakeEngine(), socketPath: s.socketPath, buildId: 'newer' });
    await server.listen();
    assert.equal((await ping(s.socketPath))?.buildId, 'newer');
    await until(() => !isAlive(pid), 5000);
    await server.close();
    lock.release();
  } finally {
    if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    s.cleanup();
  }
});

test('an engine that dies at start fails fast with the tail of its log', async () => {
  const s = setup();
  try {
    const t = Date.now();
    const err = await expectFailure(
      ensureEngine({
        spawnArgv: [process.execPath, '--import', 'tsx', SERVE, s.socketPath, s.lockFile, 'fail'],
        socketPath: s.socketPath,
        logFile: s.logFile,
        runner,
      }),
    );
    assert.is(err.code, 'E_ENGINE_UNAVAILABLE');
    assert.match(err.message, /exited \(code 3\)/);
    assert.match(err.message, /boom: cannot open the state database/);
    assert.ok(Date.now() - t < 8000, `took ${Date.now() - t} ms`);
  } finally {
    s.cleanup();
  }
});

test('waitForEngine gives up after its timeout when nothing ever listens', async () => {
  const s = setup();
  const child = spawnDetachedEngine({
    argv: ['sh', '-c', 'echo still thinking; exec sleep 30'],
    logFile: s.logFile,
    runner,
  });
  try {
    const t = Date.now();
    const err = await expectFailure(waitForEngine(s.socketPath, { timeoutMs: 400, logFile: s.logFile, child }));
    assert.is(err.code, 'E_ENGINE_UNAVAILABLE');
    assert.match(err.message, /did not answer .* within 400 ms/);
    assert.match(err.message, /still thinking/);
    assert.ok(Date.now() - t < 2000);
  } finally {
    process.kill(child.pid, 'SIGKILL');
    s.cleanup();
  }
});

test.run();
