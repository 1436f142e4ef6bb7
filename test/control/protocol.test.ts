import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ControlClient } from '../../app/control/client.js';
import { LineSplitter, MAX_REQUEST_BYTES, decodeLine, encodeLine } from '../../app/control/protocol.js';
import { RawConn, startServer } from './helpers.js';

test('encodeLine/decodeLine: Buffers as $base64, one line, everything else untouched', () => {
  const msg = {
    id: 3,
    ok: true,
    result: { data: Buffer.from([0, 10, 255]), nested: [Buffer.from('a\nb')], s: 'x\ny', n: null },
  };
  const line = encodeLine(msg);
  assert.ok(line.endsWith('\n'));
  assert.is(line.indexOf('\n'), line.length - 1, 'no raw newline inside the line');
  assert.ok(line.includes('"data":{"$base64":"AAr/"}'));
  const back = decodeLine(line) as typeof msg;
  assert.ok(Buffer.isBuffer(back.result.data) && back.result.data.equals(msg.result.data));
  assert.ok(back.result.nested[0].equals(Buffer.from('a\nb')));
  assert.is(back.result.s, 'x\ny');
  // an object that merely has a $base64 key among others stays an object
  assert.equal(decodeLine('{"a":{"$base64":"AA==","b":1}}'), { a: { $base64: 'AA==', b: 1 } });
});

test('LineSplitter joins lines split across chunks and mid UTF-8 character, and reports overflow', () => {
  const lines: string[] = [];
  let over = 0;
  const s = new LineSplitter(
    16,
    (l) => lines.push(l),
    (n) => {
      over = n;
    },
  );
  const text = Buffer.from('héllo\nwörld\n');
  for (let i = 0; i < text.length; i++) s.push(text.subarray(i, i + 1));
  assert.equal(lines, ['héllo', 'wörld']);
  s.push(Buffer.from('a'.repeat(10)));
  s.push(Buffer.from('b'.repeat(10)));
  assert.is(over, 20);
  s.push(Buffer.from('\nlate\n'));
  assert.equal(lines, ['héllo', 'wörld'], 'nothing is framed after an overflow');
});

test('malformed JSON gets E_PROTOCOL and the connection keeps serving', async () => {
  const r = await startServer();
  const raw = await RawConn.open(r.socketPath);
  try {
    raw.send('{"v":1,"id":1,"method":"listVms"\n');
    const bad = await raw.next();
    assert.is(bad.ok, false);
    assert.is(bad.id, null);
    assert.is(bad.error.code, 'E_PROTOCOL');
    assert.match(bad.error.message, /malformed JSON/);
    raw.send('[1,2]\n');
    assert.is((await raw.next()).error.code, 'E_PROTOCOL');
    raw.send('{"v":1,"method":"listVms"}\n');
    assert.match((await raw.next()).error.message, /"id"/);
    raw.send('{"v":1,"id":4,"method":"getVm","params":"dev"}\n');
    const p = await raw.next();
    assert.is(p.id, 4);
    assert.match(p.error.message, /params/);
    const ok = await raw.request('listVms', [], 5);
    assert.equal(ok, { id: 5, ok: true, result: [] });
  } finally {
    raw.close();
    await r.stop();
  }
});

test('an oversized request gets E_PROTOCOL, that connection closes, others keep working', async () => {
  const r = await startServer();
  const raw = await RawConn.open(r.socketPath);
  const bystander = await ControlClient.connect(r.socketPath);
  try {
    const big = Buffer.alloc(MAX_REQUEST_BYTES + 512 * 1024, 0x61);
    raw.send(Buffer.concat([Buffer.from('{"v":1,"id":9,"method":"getVm","params":["'), big]));
    const res = await raw.next(5000);
    assert.is(res.ok, false);
    assert.is(res.error.code, 'E_PROTOCOL');
    assert.match(res.error.message, /too large/);
    await raw.closedP;
    assert.ok(raw.closed);
    assert.equal(await bystander.listVms(), []);
    const fresh = await RawConn.open(r.socketPath);
    assert.is((await fresh.request('listVms', [], 1)).ok, true);
    fresh.close();
  } finally {
    await bystander.close();
    await r.stop();
  }
});

test('a request just under the limit is served', async () => {
  const r = await startServer();
  const raw = await RawConn.open(r.socketPath);
  try {
    const name = 'x'.repeat(MAX_REQUEST_BYTES - 200);
    const res = await raw.request('getVm', [name], 2);
    assert.is(res.error.code, 'E_NOT_FOUND', 'reached the engine');
  } finally {
    raw.close();
    await r.stop();
  }
});

test('another protocol major version gets E_PROTOCOL; hello answers any version', async () => {
  const r = await startServer();
  const raw = await RawConn.open(r.socketPath);
  try {
    const v2 = await raw.request('listVms', [], 1, 2);
    assert.is(v2.ok, false);
    assert.is(v2.error.code, 'E_PROTOCOL');
    assert.equal(v2.error.details, { supported: 1 });
    assert.is((await raw.request('listVms', [], 2, '1')).error.code, 'E_PROTOCOL');
    assert.is((await raw.request('listVms', [], 3, null)).error.code, 'E_PROTOCOL');
    assert.is((await raw.request('listVms', [], 4, 1.3)).ok, true, 'minor versions are compatible');
    const hello = await raw.request('hello', [], 5, 7);
    assert.equal(hello.result, { protocol: 1, buildId: 'test-build', pid: process.pid, mode: 'detached' });
    assert.is(r.engine.calls.length, 0);
  } finally {
    raw.close();
    await r.stop();
  }
});

test('only whitelisted methods are callable', async () => {
  const r = await startServer();
  const raw = await RawConn.open(r.socketPath);
  try {
    for (const [i, m] of [
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'guestWrites',
      'emit',
      'nope',
    ].entries()) {
      const res = await raw.request(m, [], i + 1);
      assert.is(res.ok, false, m);
      assert.is(res.error.code, 'E_PROTOCOL', m);
      assert.match(res.error.message, /unknown method/);
    }
    assert.is((await raw.request('listVms', [], 99)).ok, true);
  } finally {
    raw.close();
    await r.stop();
  }
});

test('events and console bytes are pushed as {event} and {console,data} lines', async () => {
  const r = await startServer();
  const raw = await RawConn.open(r.socketPath);
  try {
    await r.engine.createVm({ name: 'w', start: true });
    assert.equal(await raw.request('subscribe', [], 1), { id: 1, ok: true, result: null });
    r.engine.emit({ type: 'log', line: 'hello' });
    assert.equal(await raw.next(), { event: { type: 'log', line: 'hello' } });
    assert.equal(await raw.request('subscribeConsole', ['w'], 2), { id: 2, ok: true, result: null });
    r.engine.guestWrites('w', Buffer.from([1, 2, 3]));
    assert.equal(await raw.next(), { console: 'w', data: 'AQID' });
    // sendConsole with base64 data
    raw.send(JSON.stringify({ v: 1, id: 3, method: 'sendConsole', params: ['w', { $base64: 'aGk=' }] }) + '\n');
    // the echo is pushed while the engine call runs, so it comes before the answer
    assert.equal(await raw.next(), { console: 'w', data: 'aGk=' });
    assert.equal(await raw.next(), { id: 3, ok: true, result: null });
    assert.is(r.engine.sent[0].data.toString(), 'hi');
    await raw.request('unsubscribe', [{ console: 'w' }], 4);
    await raw.request('unsubscribe', [], 5);
    assert.is(r.engine.listenerCount, 0);
    assert.is(r.engine.consoleListenerCount('w'), 0);
  } finally {
    raw.close();
    await r.stop();
  }
});

test.run();
