import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireEngineLock, lockHolder, tryAcquireEngineLock } from '../../app/control/lock.js';
import { createRunner } from '../../app/engine/process.js';
import { BangerError } from '../../app/errors.js';
import { tempDir, until } from './helpers.js';

const RACER = fileURLToPath(new URL('./fixtures/lock-race.ts', import.meta.url));
const runner = createRunner();

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const p = runner.spawn(['true'], { stdio: 'ignore', detached: false });
  await p.exited;
  return p.pid;
}

function codeOf(fn: () => unknown): BangerError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, BangerError);
    return err as BangerError;
  }
  throw new Error('expected a refusal');
}

/** n child processes race for the lock at the same instant; returns their outcomes. */
async function race(lockFile: string, dir: string, n: number) {
  const go = join(dir, 'go');
  const done = join(dir, 'done');
  let ready = 0;
  const results: { pid: number; won: boolean; code?: string; holder?: number }[] = [];
  const runs = Array.from({ length: n }, () => runner.run([process.execPath, '--import', 'tsx', RACER, lockFile, go, done], {
    timeoutMs: 30_000,
    onOutput: (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        if (line === 'ready') ready++;
        else results.push(JSON.parse(line));
      }
    },
  }));
  await until(() => ready === n, 25_000);
  writeFileSync(go, '');
  await until(() => results.length === n, 10_000);
  writeFileSync(done, '');
  await Promise.all(runs);
  return results;
}

test('a second holder is refused with E_ENGINE_RUNNING naming the pid; release frees it', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'engine.lock');
  try {
    const lock = await acquireEngineLock(file);
    assert.is(readFileSync(file, 'utf8').trim(), String(process.pid));
    assert.is(lockHolder(file), process.pid);
    const again = codeOf(() => tryAcquireEngineLock(file));
    assert.is(again.code, 'E_ENGINE_RUNNING');
    assert.is(again.details?.pid, process.pid);
    // a live foreign holder (pid 1 is always alive) is refused, the file left alone
    writeFileSync(join(dir, 'other.lock'), '1\n');
    const other = codeOf(() => tryAcquireEngineLock(join(dir, 'other.lock')));
    assert.is(other.code, 'E_ENGINE_RUNNING');
    assert.match(other.message, /pid 1\b/);
    assert.is(readFileSync(join(dir, 'other.lock'), 'utf8'), '1\n');
    lock.release();
    assert.not.ok(existsSync(file));
    assert.is(lockHolder(file), null);
    lock.release(); // twice is harmless
    const next = await acquireEngineLock(file);
    next.release();
    assert.equal(readdirSync(dir).sort(), ['other.lock'], 'no temp or takeover files are left behind');
  } finally {
    cleanup();
  }
});

test('a lock whose pid is dead (or garbage, or our own recycled pid) is taken over', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'engine.lock');
  try {
    const dead = await deadPid();
    writeFileSync(file, `${dead}\n`);
    assert.is(lockHolder(file), null);
    const lock = await acquireEngineLock(file);
    assert.is(readFileSync(file, 'utf8').trim(), String(process.pid));
    lock.release();
    writeFileSync(file, 'not a pid');
    (await acquireEngineLock(file)).release();
    // a container restart can give the new engine the old one's pid
    writeFileSync(file, `${process.pid}\n`);
    (await acquireEngineLock(file)).release();
    // a takeover lock left by an engine that died mid-takeover does not wedge us
    writeFileSync(file, `${dead}\n`);
    writeFileSync(`${file}.takeover`, `${dead}\n`);
    (await acquireEngineLock(file)).release();
    assert.not.ok(existsSync(`${file}.takeover`));
  } finally {
    cleanup();
  }
});

test('waitMs: a holder that lets go in time is succeeded, otherwise E_ENGINE_RUNNING', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'engine.lock');
  try {
    writeFileSync(file, '1\n');
    const t = Date.now();
    try {
      await acquireEngineLock(file, { waitMs: 150 });
      assert.unreachable();
    } catch (err) {
      assert.is((err as BangerError).code, 'E_ENGINE_RUNNING');
      assert.ok(Date.now() - t >= 150);
    }
    setTimeout(() => unlinkSync(file), 100); // the holder steps aside
    const lock = await acquireEngineLock(file, { waitMs: 3000 });
    assert.is(lockHolder(file), process.pid);
    lock.release();
  } finally {
    cleanup();
  }
});

test('four processes race for a free lock: exactly one wins, the rest name it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const results = await race(join(dir, 'engine.lock'), dir, 4);
    const winners = results.filter((r) => r.won);
    assert.is(winners.length, 1, JSON.stringify(results));
    for (const l of results.filter((r) => !r.won)) {
      assert.is(l.code, 'E_ENGINE_RUNNING');
      assert.is(l.holder, winners[0].pid);
    }
  } finally {
    cleanup();
  }
});

test('four processes race to take over a dead holder: exactly one wins', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'engine.lock');
    writeFileSync(file, `${await deadPid()}\n`);
    const results = await race(file, dir, 4);
    const winners = results.filter((r) => r.won);
    assert.is(winners.length, 1, JSON.stringify(results));
    for (const l of results.filter((r) => !r.won)) assert.is(l.holder, winners[0].pid);
    assert.not.ok(existsSync(file), 'the winner released it on exit');
  } finally {
    cleanup();
  }
});

test.run();
