// Forwarding derived from the one method table (ENGINE_METHOD_TABLE, beside EngineApi in
// api.ts): the control client and the engine switch extend EngineCalls and say only where a
// call goes, so a new engine method is written in EngineApi and its table, once in the engine
// (and its wire validator), not once per forwarding layer. Streams are written by hand.
import { ENGINE_METHOD_TABLE, type EngineApi, type EngineMethod } from './api.js';

export { ENGINE_METHOD_TABLE, type EngineMethod, type StreamMethod } from './api.js';
export const ENGINE_METHODS = Object.keys(ENGINE_METHOD_TABLE) as EngineMethod[];

/** The plain calls of EngineApi. */
export type EngineCallApi = Pick<EngineApi, EngineMethod>;

/** Where a derived class sends each plain call (its own transport or target). */
export const SEND_CALL = Symbol('sendCall');

interface CallSender {
  [SEND_CALL](method: EngineMethod, args: unknown[]): Promise<unknown>;
}

/**
 * A base class with every plain EngineApi method, each handing (method, args) to the subclass's
 * [SEND_CALL]; a subclass overrides only what is special (a Buffer's encoding, say).
 */
function makeEngineCalls(): abstract new () => EngineCallApi & CallSender {
  abstract class Calls {
    [SEND_CALL](method: EngineMethod): Promise<unknown> {
      return Promise.reject(
        new Error(`${this.constructor.name} sends no calls (${method}): it must define [SEND_CALL]`),
      );
    }
  }
  for (const [method, answer] of Object.entries(ENGINE_METHOD_TABLE)) {
    const send = (self: CallSender, args: unknown[]) => self[SEND_CALL](method as EngineMethod, args);
    const fn =
      answer === 'void'
        ? async function (this: CallSender, ...args: unknown[]) {
            await send(this, args);
          }
        : function (this: CallSender, ...args: unknown[]) {
            return send(this, args);
          };
    Object.defineProperty(fn, 'name', { value: method });
    Object.defineProperty(Calls.prototype, method, { value: fn, writable: true, configurable: true });
  }
  return Calls as unknown as abstract new () => EngineCallApi & CallSender;
}

export const EngineCalls = makeEngineCalls();
