// The forwarding derived from the method table: every plain EngineApi method exists on a class
// that extends EngineCalls, hands its name and arguments to [SEND_CALL], and a 'void' method
// answers undefined whatever the transport gave back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_METHOD_TABLE, ENGINE_METHODS, EngineCalls, SEND_CALL } from '../../app/contract/engine-methods.js';
import type { EngineMethod } from '../../app/contract/api.js';

class Recorder extends EngineCalls {
  sent: [EngineMethod, unknown[]][] = [];
  override async [SEND_CALL](method: EngineMethod, args: unknown[]): Promise<unknown> {
    this.sent.push([method, args]);
    return { answered: method };
  }
}

test('every method in the table is a method of the derived class, sent with its arguments', async () => {
  const r = new Recorder();
  const calls = r as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const m of ENGINE_METHODS) {
    const answer = await calls[m]('a', 2);
    assert.equal(r.sent.at(-1), [m, ['a', 2]], m);
    assert.equal(answer, ENGINE_METHOD_TABLE[m] === 'void' ? undefined : { answered: m }, m);
  }
  assert.is(r.sent.length, ENGINE_METHODS.length);
});

test('the streams are not in the table (each layer writes them)', () => {
  assert.not.ok('subscribe' in ENGINE_METHOD_TABLE);
  assert.not.ok('subscribeConsole' in ENGINE_METHOD_TABLE);
});

test('a class that forgets [SEND_CALL] fails its calls with a clear error', async () => {
  class Forgot extends EngineCalls {}
  const err = await new Forgot().listVms().then(
    () => null,
    (e: Error) => e,
  );
  assert.match(String(err?.message), /Forgot sends no calls \(listVms\)/);
});

test.run();
