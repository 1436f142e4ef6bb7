// The control socket's methods, typed: what each request carries and answers, shared by the
// client and the session, and one validator per engine method where untyped JSON becomes a
// typed call. Validators check shapes (a VM name is a string, options are an object with
// fields of the right types); what makes a name or a size valid stays with the engine's
// domain rules (contract/vm-spec.ts, contract/artifact-names.ts), which answer with their own codes.
import type { EngineApi, EngineEvent, StopOptions } from '../contract/api.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import type { HelloInfo } from './protocol.js';
import { ENGINE_METHODS, type EngineMethod } from '../contract/engine-methods.js';

export { ENGINE_METHODS, type EngineMethod } from '../contract/engine-methods.js';

/** The methods that are not EngineApi calls: the bootstrap surface and stream control. */
export interface ControlCalls {
  hello: { params: []; result: HelloInfo };
  ping: { params: []; result: { pong: true; pid: number } };
  handover: { params: []; result: { pid: number } | null };
  subscribe: { params: []; result: null };
  subscribeConsole: { params: [name: string]; result: null };
  unsubscribe: { params: [what?: { console: string } | { events: true }]; result: null };
}
export type ControlMethod = keyof ControlCalls;
export const CONTROL_METHODS = [
  'hello',
  'ping',
  'handover',
  'subscribe',
  'subscribeConsole',
  'unsubscribe',
] as const satisfies readonly ControlMethod[];

export type WireMethod = EngineMethod | ControlMethod;
export type WireParams<M extends WireMethod> = M extends EngineMethod
  ? Parameters<EngineApi[M]>
  : M extends ControlMethod
    ? ControlCalls[M]['params']
    : never;
export type WireResult<M extends WireMethod> = M extends EngineMethod
  ? Awaited<ReturnType<EngineApi[M]>>
  : M extends ControlMethod
    ? ControlCalls[M]['result']
    : never;

export interface WireRequest<M extends WireMethod = WireMethod> {
  v: number;
  id: number;
  method: M;
  params?: WireParams<M>;
}

/** What the engine sends unasked: events, and console bytes (base64) of a subscribed VM. */
export type WirePush = { event: EngineEvent } | { console: string; data: string };

export const ENGINE_METHOD_SET: ReadonlySet<string> = new Set(ENGINE_METHODS);
export const CONTROL_METHOD_SET: ReadonlySet<string> = new Set(CONTROL_METHODS);

// ---- validators ---------------------------------------------------------------------------

function bad(message: string): BangerError {
  return new BangerError(ErrorCodes.INVALID_ARGUMENT, message);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function vmName(v: unknown): string {
  if (typeof v !== 'string') throw bad(`a VM name must be a string, got ${describe(v)}`);
  return v;
}

function name(what: string, v: unknown): string {
  if (typeof v !== 'string') throw bad(`${what} must be a string, got ${describe(v)}`);
  return v;
}

/** Counts: a whole number >= 1 (never a SQLite or fs error later). */
function count(what: string, n: unknown): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
    throw bad(`${what} must be a whole number >= 1, got ${JSON.stringify(n) ?? typeof n}`);
  return n;
}

/** The checked fields that were given (an absent option stays absent, not `undefined`). */
function given<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function options(v: unknown): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(`options must be an object, got ${describe(v)}`);
  return v;
}

function flag(o: Record<string, unknown> | undefined, key: string): boolean | undefined {
  const v = o?.[key];
  if (v !== undefined && typeof v !== 'boolean') throw bad(`option "${key}" must be true or false, got ${describe(v)}`);
  return v;
}

function stopOptions(v: unknown): StopOptions | undefined {
  const o = options(v);
  if (!o) return undefined;
  const t = o.timeoutMs;
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t >= 0))
    throw bad(`option "timeoutMs" must be a number of milliseconds >= 0, got ${JSON.stringify(t) ?? describe(t)}`);
  return given({ force: flag(o, 'force'), timeoutMs: t as number | undefined, save: flag(o, 'save') });
}

/** An input record: an object; string fields that the domain rules do not check are checked here. */
function input<T>(what: string, v: unknown, strings: readonly string[] = []): T {
  if (!isObject(v)) throw bad(`${what} needs a spec (an object), got ${describe(v)}`);
  for (const key of strings) {
    if (v[key] !== undefined && v[key] !== null && typeof v[key] !== 'string')
      throw bad(`${key} must be a string, got ${describe(v[key])}`);
  }
  return v as T;
}

type Validators = { [M in EngineMethod]: (p: unknown[]) => Parameters<EngineApi[M]> };

const none = (): [] => [];
const byVmName = (p: unknown[]): [string] => [vmName(p[0])];

/** One validator per engine method: the session calls the engine only with what these return. */
export const VALIDATORS: Validators = {
  status: none,
  doctor: none,
  listVms: none,
  getVm: byVmName,
  createVm: (p) => [input('vm create', p[0], ['image', 'kernel', 'userData'])],
  startVm: byVmName,
  stopVm: (p) => [vmName(p[0]), stopOptions(p[1])],
  restartVm: byVmName,
  // The new name is the domain's to judge (E_INVALID_NAME).
  cloneVm: (p) => [vmName(p[0]), p[1] as string],
  removeVm: (p) => {
    const o = options(p[1]);
    return [vmName(p[0]), o && given({ force: flag(o, 'force') })];
  },
  // Specs and guest dirs are the domain's to judge (E_INVALID_MOUNT), whatever their type.
  addVmMount: (p) => [vmName(p[0]), p[1] as string],
  removeVmMount: (p) => [vmName(p[0]), p[1] as string],
  sshInfo: byVmName,
  // The spec is the domain's to judge (E_INVALID_PORT), whatever its type.
  addPort: (p) => [vmName(p[0]), p[1] as string],
  removePort: (p) => [vmName(p[0]), p[1] as string],
  pauseVm: byVmName,
  resumeVm: byVmName,
  // Snapshot names are the domain's to judge (E_INVALID_NAME), whatever their type.
  snapshotVm: (p) => [vmName(p[0]), p[1] as string | undefined],
  listSnapshots: byVmName,
  restoreVm: (p) => [vmName(p[0]), p[1] as string],
  removeSnapshot: (p) => [vmName(p[0]), p[1] as string],
  imageFromVm: (p) => [input('image from VM', p[0])],
  consoleTail: (p) => [vmName(p[0]), count('maxBytes', p[1])],
  sendConsole: (p) => {
    if (!Buffer.isBuffer(p[1]) && typeof p[1] !== 'string') throw bad('console input must be text or bytes');
    return [vmName(p[0]), p[1]];
  },
  listImages: none,
  buildImage: (p) => [input('image build', p[0], ['from'])],
  importImage: (p) => [input('image import', p[0], ['path', 'platform'])],
  removeImage: (p) => [name('an image name', p[0])],
  listBuilds: none,
  cancelBuild: (p) => [name('a build id', p[0])],
  listKernels: none,
  addKernel: (p) => [input('kernel add', p[0], ['path', 'initrd'])],
  fetchKernel: (p) => [name('a kernel name', p[0])],
  buildKernel: (p) => [name('a kernel name', p[0])],
  removeKernel: (p) => [name('a kernel name', p[0])],
  dnsRecords: none,
  events: (p) => [count('limit', p[0])],
  engineLog: (p) => [count('lines', p[0])],
  reconcile: none,
  metrics: (p) => {
    const o = options(p[0]);
    return [o && given({ last: count('last', o.last) })];
  },
  shutdown: (p) => {
    const o = options(p[0]);
    return [o && given({ stopVms: flag(o, 'stopVms'), purge: flag(o, 'purge') })];
  },
};

/** Validate and call: the one way a request reaches the engine. */
export async function callEngine<M extends EngineMethod>(
  engine: EngineApi,
  method: M,
  params: unknown[],
): Promise<unknown> {
  const args = VALIDATORS[method](params);
  const fn = engine[method] as (...a: Parameters<EngineApi[M]>) => Promise<unknown>;
  return fn.apply(engine, args);
}
