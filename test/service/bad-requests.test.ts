// The real detached engine under hostile input on its control socket: malformed lines, bad
// arguments to real methods, oversized requests, binary junk and dropped connections each get
// an error (or just end that connection), change nothing, and the engine keeps serving.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';
import { RawConn } from '../control/helpers.js';
import { MAX_REQUEST_BYTES } from '../../app/control/protocol.js';
import { alive, enginePids, json, simPids, svcState, type Svc } from './helpers.js';

interface Vm {
  name: string;
  state: string;
  pid: number | null;
}

let s: Svc;
let enginePid = 0;
let vmPid = 0;
test.before(async () => {
  s = svcState();
  const d = await s.banger(['--detach']);
  assert.is(d.code, 0, d.stderr);
  enginePid = Number(/pid (\d+)/.exec(d.stdout)![1]);
  const c = await s.banger(['vm', 'create', 'alpha', '--disk', '64M', '--start', '--json']);
  assert.is(c.code, 0, c.stderr);
  vmPid = json<Vm>(c).pid!;
});
test.after(async () => {
  await s.cleanup();
});

async function stillServing(): Promise<void> {
  const r = await s.banger(['vm', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(
    json<Vm[]>(r).map((v) => [v.name, v.state, v.pid]),
    [['alpha', 'running', vmPid]],
  );
  assert.equal(enginePids(s.root), [enginePid]);
  assert.ok(alive(vmPid));
}

test('malformed lines get E_PROTOCOL and the same connection keeps working', async () => {
  const c = await RawConn.open(s.paths.controlSocket);
  try {
    const cases: [string, RegExp, number | null][] = [
      ['{oops', /malformed JSON/, null],
      ['[1,2,3]', /expected a JSON object/, null],
      ['"just a string"', /expected a JSON object/, null],
      ['{"v":1,"method":"listVms"}', /"id" must be an integer/, null],
      ['{"v":1,"id":7,"method":42}', /"method" must be a string/, 7],
      ['{"v":1,"id":8,"method":"dropTables"}', /unknown method: dropTables/, 8],
      ['{"v":99,"id":9,"method":"listVms"}', /protocol version 99 is not supported/, 9],
      ['{"v":1,"id":10,"method":"listVms","params":{"a":1}}', /"params" must be an array/, 10],
      [Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7b]).toString('latin1'), /malformed JSON/, null],
    ];
    for (const [line, message, id] of cases) {
      c.send(Buffer.concat([Buffer.from(line, 'latin1'), Buffer.from('\n')]));
      const r = await c.next();
      assert.is(r.ok, false, line);
      assert.is(r.id, id, line);
      assert.is(r.error.code, 'E_PROTOCOL', line);
      assert.match(r.error.message, message);
    }
    const hello = await c.request('hello', [], 11);
    assert.is(hello.result.pid, enginePid);
  } finally {
    c.close();
  }
});

test('bad arguments to real engine methods: a stable user error code, and nothing changes', async () => {
  const c = await RawConn.open(s.paths.controlSocket);
  try {
    const cases: [string, unknown[], string][] = [
      ['stopVm', [['alpha']], 'E_INVALID_ARGUMENT'],
      ['stopVm', ['alpha', 'hard'], 'E_INVALID_ARGUMENT'],
      ['stopVm', ['alpha', { timeoutMs: 'soon' }], 'E_INVALID_ARGUMENT'],
      ['stopVm', ['alpha', { force: 'yes' }], 'E_INVALID_ARGUMENT'],
      ['removeVm', ['alpha', { force: 1 }], 'E_INVALID_ARGUMENT'],
      ['removeVm', [{}], 'E_INVALID_ARGUMENT'],
      ['startVm', [null], 'E_INVALID_ARGUMENT'],
      ['restartVm', [7], 'E_INVALID_ARGUMENT'],
      ['sshInfo', [1], 'E_INVALID_ARGUMENT'],
      ['startVm', ['alpha'], 'E_INVALID_STATE'],
      ['getVm', ['nope'], 'E_NOT_FOUND'],
      ['createVm', ['x'], 'E_INVALID_ARGUMENT'],
      ['createVm', [{ name: 'beta', vcpus: 'lots' }], 'E_INVALID_VCPUS'],
      ['createVm', [{ name: { x: 1 } }], 'E_INVALID_NAME'],
      ['createVm', [{ name: 'alpha' }], 'E_NAME_TAKEN'],
      ['consoleTail', ['alpha', 'big'], 'E_INVALID_ARGUMENT'],
      ['consoleTail', ['alpha', -5], 'E_INVALID_ARGUMENT'],
      ['sendConsole', ['alpha', { x: 1 }], 'E_INVALID_ARGUMENT'],
      ['events', ['abc'], 'E_INVALID_ARGUMENT'],
      ['engineLog', [-1], 'E_INVALID_ARGUMENT'],
      ['cancelBuild', [{}], 'E_INVALID_ARGUMENT'],
      ['subscribeConsole', [5], 'E_INVALID_ARGUMENT'],
      ['addKernel', [{ name: 'k', path: 5 }], 'E_INVALID_ARGUMENT'], // not a string
      ['addKernel', [{ name: 'k', path: '/nonexistent/vmlinux' }], 'E_NOT_FOUND'],
      ['pauseVm', [7], 'E_INVALID_ARGUMENT'],
      ['resumeVm', ['alpha'], 'E_INVALID_STATE'],
      ['snapshotVm', ['alpha', 42], 'E_INVALID_NAME'],
      ['snapshotVm', ['alpha', '../x'], 'E_INVALID_NAME'],
      ['restoreVm', ['alpha', 'nope'], 'E_NOT_FOUND'],
      ['removeSnapshot', ['alpha', {}], 'E_INVALID_NAME'],
      ['listSnapshots', [null], 'E_INVALID_ARGUMENT'],
      ['imageFromVm', ['x'], 'E_INVALID_ARGUMENT'],
      ['imageFromVm', [{ vm: 'alpha', name: 'img' }], 'E_INVALID_STATE'],
      ['metrics', [{ last: 'all' }], 'E_INVALID_ARGUMENT'],
      ['shutdown', [{ stopVms: 'yes' }], 'E_INVALID_ARGUMENT'],
      ['importImage', [{ name: 'i', path: ['x'] }], 'E_INVALID_ARGUMENT'],
    ];
    let id = 100;
    for (const [method, params, code] of cases) {
      const r = await c.request(method, params, ++id);
      const what = `${method}(${JSON.stringify(params)})`;
      assert.is(r.id, id, what);
      assert.is(r.ok, false, `${what} should fail`);
      assert.is(r.error.code, code, `${what}: ${r.error.message}`);
      assert.ok(r.error.message.length > 0 && !r.error.message.includes('\n'), what);
    }
  } finally {
    c.close();
  }
  await stillServing();
  const vms = json<{ name: string }[]>(await s.banger(['vm', 'ls', '--json']));
  assert.equal(
    vms.map((v) => v.name),
    ['alpha'],
    'no VM was created or removed',
  );
  assert.equal(json<unknown[]>(await s.banger(['kernel', 'ls', '--json'])).length, 1);
});

test('an oversized request gets E_PROTOCOL and only that connection ends; others keep working', async () => {
  const bystander = await RawConn.open(s.paths.controlSocket);
  const big = await RawConn.open(s.paths.controlSocket);
  try {
    // 4 MiB in one line (the limit is 3 MiB): the engine must not buffer it or fall over.
    big.send(`{"v":1,"id":1,"method":"getVm","params":["${'x'.repeat(4 * 1024 * 1024)}"]}\n`);
    const r = await big.next(5000);
    assert.is(r.ok, false);
    assert.is(r.error.code, 'E_PROTOCOL');
    assert.match(r.error.message, /request too large/);
    await big.closedP;
    const other = await bystander.request('listVms', [], 2);
    assert.is(other.ok, true);
    assert.is(other.result[0].name, 'alpha');
  } finally {
    bystander.close();
    big.close();
  }

  // No newline at all, just bytes past the limit.
  const endless = await RawConn.open(s.paths.controlSocket);
  try {
    endless.send(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x61));
    const r = await endless.next(5000);
    assert.is(r.error.code, 'E_PROTOCOL');
    await endless.closedP;
  } finally {
    endless.close();
  }
  await stillServing();
});

test('half-written requests and 100 dropped connections leave the engine serving', async () => {
  await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const sock = createConnection(s.paths.controlSocket);
          sock.on('error', () => resolve());
          sock.on('close', () => resolve());
          sock.on('connect', () => {
            // Half a request, a request whose answer nobody reads, or nothing: then vanish.
            if (i % 3 === 0) sock.write('{"v":1,"id":1,"meth');
            if (i % 3 === 1) sock.write('{"v":1,"id":1,"method":"status","params":[]}\n');
            setTimeout(() => sock.destroy(), i % 7);
          });
        }),
    ),
  );
  await stillServing();
  // The engine kept answering in time: no front end gave up on it and spawned a second engine.
  assert.not.match(readFileSync(s.paths.engineLog, 'utf8'), /E_ENGINE_RUNNING/);
  const st = json<{ pid: number }>(await s.banger(['status', '--json']));
  assert.is(st.pid, enginePid);
  assert.equal(simPids(s.root), [vmPid]);
});

test.run();
