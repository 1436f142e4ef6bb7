// A new VM's id, and the fields of a VM that never ran. The engine's alone: front ends never
// make one.
import { randomBytes } from 'node:crypto';
import type { VmRecord } from '../../contract/api.js';
import { macFor } from '../network/identity.js';

/** 12 lowercase hex characters: valid as a Firecracker --id and short enough for TAP names. */
export function newVmId(): string {
  return randomBytes(6).toString('hex');
}

type Unstarted = Pick<
  VmRecord,
  | 'mac'
  | 'ip'
  | 'state'
  | 'pid'
  | 'socketPath'
  | 'tap'
  | 'createdAt'
  | 'updatedAt'
  | 'startedAt'
  | 'stoppedAt'
  | 'lastError'
  | 'exitCode'
  | 'exitSignal'
  | 'pidStartTime'
>;

/** What a new VM (created or cloned) starts with: its MAC from its id, and no run yet. */
export function unstarted(id: string, now: string): Unstarted {
  return {
    mac: macFor(id),
    ip: null,
    state: 'created',
    pid: null,
    socketPath: null,
    tap: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    stoppedAt: null,
    lastError: null,
    exitCode: null,
    exitSignal: null,
    pidStartTime: null,
  };
}
