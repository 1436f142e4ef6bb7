// A new VM's id. The engine's alone: front ends never make one.
import { randomBytes } from 'node:crypto';

/** 12 lowercase hex characters: valid as a Firecracker --id and short enough for TAP names. */
export function newVmId(): string {
  return randomBytes(6).toString('hex');
}
