import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireEngineLock, lockHolder, parseLock, tryAcquireEngineLock } from '../../app/control/lock.js';
import { createRunner } from '../../app/base/process.js';
import { BangerError } from '../../app/base/errors.js';
import { tempDir, until } from './helpers.js';

const RACER = fileURLToPath(new URL('./fixtures/lock-race.ts', import.meta.url));
const runner = createRunner();

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const p = runner.spawn(['true'], { stdio: 'ignore', detached: false });
  await p.exited;
  return p.pid;
}

/** Read straight from /proc here, not through the code under test. */
const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
function startOf(pid: number): string {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
}
/** The lock line a live process `pid` would have written. */
function recordOf(pid: number): string {
  return `${pid} ${startOf(pid)} ${BOOT}\n`;
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
  const runs = Array.from({ length: n }, () =>
    runner.run([process.execPath, '--import', 'tsx', RACER, lockFile, go, done], {
      timeoutMs: 30_000,
      onOutput: (chunk) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          if (line === 'ready') ready++;
          else results.push(JSON.parse(line));
        }
      },
    }),
  );
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
    assert.is(readFileSync(file, 'utf8'), recordOf(process.pid), 'pid, start time and boot id');
    assert.is(lockHolder(file), process.pid);
    const again = codeOf(() => tryAcquireEngineLock(file));
    assert.is(again.code, 'E_ENGINE_RUNNING');
    assert.is(again.details?.pid, process.pid);
    // a live foreign holder (pid 1 is always alive) is refused, the file left alone
    writeFileSync(join(dir, 'other.lock'), recordOf(1));
    const other = codeOf(() => tryAcquireEngineLock(join(dir, 'other.lock')));
    assert.is(other.code, 'E_ENGINE_RUNNING');
    assert.match(other.message, /pid 1\b/);
    assert.is(readFileSync(join(dir, 'other.lock'), 'utf8'), recordOf(1));
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
    assert.is(readFileSync(file, 'utf8'), recordOf(process.pid));
    lock.release();
    writeFileSync(file, 'not a pid');
    (await acquireEngineLock(file)).release();
    // a container restart can give the new engine the old one's pid
    writeFileSync(file, `${process.pid}\n`);
    (await acquireEngineLock(file)).release();
    writeFileSync(file, `${process.pid} 1 ${BOOT}\n`);
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

test('after a reboot (other boot id) or pid reuse (other start time) a live pid does not hold the lock', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'engine.lock');
  try {
    // The reported bug: pid 1 is alive, but the lock is from another boot.
    writeFileSync(file, `1 ${startOf(1)} 00000000-0000-4000-8000-000000000000\n`);
    assert.is(lockHolder(file), null);
    (await acquireEngineLock(file)).release();
    // Same boot, same pid, but another process started since.
    writeFileSync(file, `1 ${Number(startOf(1)) + 1} ${BOOT}\n`);
    assert.is(lockHolder(file), null);
    (await acquireEngineLock(file)).release();
    // A part that could not be read when written ("-") is not compared.
    writeFileSync(file, `1 - -\n`);
    assert.is(lockHolder(file), 1);
    writeFileSync(file, '1 2 3 4\n');
    assert.is(lockHolder(file), null, 'a malformed line names no one');
    assert.equal(parseLock('42 777 abc\n'), { pid: 42, start: '777', boot: 'abc', legacy: false, raw: '42 777 abc\n' });
    assert.equal(parseLock('42\n'), { pid: 42, start: null, boot: null, legacy: true, raw: '42\n' });
    assert.is(parseLock('-3'), null);
  } finally {
    cleanup();
  }
});

test('an old plain-pid lock: held only by a live banger process that started before it was written', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'engine.lock');
  // A long-lived process whose command line carries the engine verbs, like `banger engine serve`.
  const engine = runner.spawn([process.execPath, '-e', 'setTimeout(() => {}, 30000)', 'engine', 'serve'], {
    stdio: 'ignore',
    detached: false,
  });
  const other = runner.spawn(['sleep', '30'], { stdio: 'ignore', detached: false });
  try {
    await until(
      () =>
        existsSync(`/proc/${engine.pid}/cmdline`) &&
        readFileSync(`/proc/${engine.pid}/cmdline`, 'utf8').includes('serve'),
      5000,
    );
    await new Promise((r) => setTimeout(r, 50));
    // The reported bug: "1" (a system daemon after a reboot) wedged every command.
    writeFileSync(file, '1\n');
    assert.is(lockHolder(file), null, 'pid 1 is not banger');
    const t = Date.now();
    (await acquireEngineLock(file)).release();
    assert.ok(Date.now() - t < 500);
    writeFileSync(file, `${other.pid}\n`);
    assert.is(lockHolder(file), null, 'a live process that is not banger');
    writeFileSync(file, `${engine.pid}\n`);
    assert.is(lockHolder(file), engine.pid, "an older build's live engine still holds it");
    assert.is(codeOf(() => tryAcquireEngineLock(file)).code, 'E_ENGINE_RUNNING');
    // Written a minute before that process started: its pid was reused (or the host rebooted).
    const before = (Date.now() - 60_000) / 1000;
    utimesSync(file, before, before);
    assert.is(lockHolder(file), null);
    (await acquireEngineLock(file)).release();
  } finally {
    engine.child.kill('SIGKILL');
    other.child.kill('SIGKILL');
    cleanup();
  }
});

test('waitMs: a holder that lets go in time is succeeded, otherwise E_ENGINE_RUNNING', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'engine.lock');
  try {
    writeFileSync(file, recordOf(1));
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
