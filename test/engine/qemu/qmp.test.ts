// The QMP client against a real QEMU: microvm paused before launch (-S), no guest needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runIf } from '../../helpers/skip.js';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner, which, type SpawnedProcess } from '../../../app/base/process.js';
import { QmpClient, withQmp, type QmpEvent } from '../../../app/engine/qemu/qmp.js';
import { BangerError } from '../../../app/base/errors.js';

const QEMU = which('qemu-system-x86_64');
const real = runIf(test, QEMU ? null : 'missing qemu-system-x86_64 (apt-get install qemu-system-x86)');
const runner = createRunner();
const dir = mkdtempSync(join(tmpdir(), 'banger-qmp-'));
let n = 0;

async function pausedQemu(): Promise<{ proc: SpawnedProcess; sock: string; log: string }> {
  const sock = join(dir, `q${++n}.sock`);
  const log = join(dir, `q${n}.log`);
  const fd = openSync(log, 'w');
  const proc = runner.spawn(
    [
      QEMU!,
      '-M',
      'microvm',
      '-accel',
      'tcg',
      '-nodefaults',
      '-no-user-config',
      '-nographic',
      '-S',
      '-qmp',
      `unix:${sock},server=on,wait=off`,
    ],
    { stdio: ['ignore', fd, fd], detached: true },
  );
  closeSync(fd);
  const deadline = Date.now() + 5000;
  while (!existsSync(sock)) {
    if (Date.now() > deadline) throw new Error(`qemu made no QMP socket: ${readFileSync(log, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, sock, log };
}

// The child is unref'd (a VMM must outlive us), so its exit promise alone does not keep the
// event loop alive: wait with a timer beside it.
function exitOf(p: SpawnedProcess, ms = 5000) {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.exited,
    new Promise<null>((r) => {
      t = setTimeout(() => r(null), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

async function kill(p: SpawnedProcess): Promise<void> {
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await exitOf(p);
}

real('greeting, capabilities, query-status of a paused microvm', async () => {
  const q = await pausedQemu();
  try {
    const c = await QmpClient.connect(q.sock);
    assert.is(c.greeting!.version.qemu.major >= 7, true);
    const st = await c.queryStatus();
    assert.is(st.status, 'prelaunch');
    assert.is(st.running, false);
    // Ids keep concurrent answers apart.
    const [a, b] = await Promise.all([c.queryStatus(), c.execute<{ name?: string }>('query-name')]);
    assert.is(a.status, 'prelaunch');
    assert.equal(b, {});
    c.close();
  } finally {
    await kill(q.proc);
  }
});

real('a QMP error becomes BangerError E_VMM with the class and description', async () => {
  const q = await pausedQemu();
  try {
    await withQmp(q.sock, async (c) => {
      try {
        await c.execute('no-such-command');
        assert.unreachable();
      } catch (err) {
        assert.instance(err, BangerError);
        assert.is((err as BangerError).code, 'E_VMM');
        assert.match(
          (err as Error).message,
          /QMP no-such-command: CommandNotFound: The command no-such-command has not been found/,
        );
      }
      // The connection survives an error.
      assert.is((await c.queryStatus()).status, 'prelaunch');
    });
  } finally {
    await kill(q.proc);
  }
});

real('quit: QEMU exits 0 and the SHUTDOWN event is surfaced', async () => {
  const q = await pausedQemu();
  const events: QmpEvent[] = [];
  const c = await QmpClient.connect(q.sock, { onEvent: (e) => events.push(e) });
  await c.quit();
  const st = await exitOf(q.proc);
  assert.equal(st, { code: 0, signal: null });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(
    events.some((e) => e.event === 'SHUTDOWN' && (e.data as { reason?: string }).reason === 'host-qmp-quit'),
    JSON.stringify(events),
  );
  // A command on a closed connection fails cleanly rather than hanging.
  try {
    await c.queryStatus();
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_VMM');
  }
  c.close();
});

test('no socket: E_VMM naming the path', async () => {
  const p = join(dir, 'missing.sock');
  try {
    await QmpClient.connect(p, { timeoutMs: 500 });
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_VMM');
    assert.match((err as Error).message, /cannot connect to QMP socket .*missing\.sock/);
  }
});

test('per-command timeout and greeting timeout (a server that greets, then goes quiet)', async () => {
  const p = join(dir, 'quiet.sock');
  let greet = true;
  const srv = createServer((s) => {
    if (!greet) return; // never greets
    s.write(
      JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' }, capabilities: [] } }) +
        '\n',
    );
    s.on('data', (d) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        const m = JSON.parse(line);
        if (m.execute === 'qmp_capabilities') s.write(JSON.stringify({ return: {}, id: m.id }) + '\n');
        // anything else: silence
      }
    });
  });
  await new Promise<void>((r) => srv.listen(p, r));
  try {
    const c = await QmpClient.connect(p, { timeoutMs: 1000 });
    const t0 = Date.now();
    try {
      await c.execute('query-status', undefined, { timeoutMs: 200 });
      assert.unreachable();
    } catch (err) {
      assert.is((err as BangerError).code, 'E_TIMEOUT');
      assert.match((err as Error).message, /QMP query-status: no answer within 200 ms/);
    }
    assert.ok(Date.now() - t0 < 1000);
    c.close();
    greet = false;
    try {
      await QmpClient.connect(p, { timeoutMs: 200 });
      assert.unreachable();
    } catch (err) {
      assert.is((err as BangerError).code, 'E_TIMEOUT');
      assert.match((err as Error).message, /no greeting within 200 ms/);
    }
  } finally {
    srv.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
