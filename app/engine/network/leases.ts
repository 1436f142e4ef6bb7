// IP leases live in the store. The PRIMARY KEY on leases.ip decides who gets an address, so
// two allocators (threads, processes, connections) can race without a check-then-insert bug:
// the loser's INSERT fails and it moves on to the next address.
import type { LeaseRecord } from '../../contract/api.js';
import { isUniqueViolation, type Store } from '../store.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { broadcast, formatCidr, formatIp, guestAddresses, guestCapacity, parseIp, type Cidr } from './cidr.js';

/** The part of the store leases need (keeps this testable against the real Store only). */
export type LeaseStore = Pick<Store, 'tryLease' | 'getLease' | 'listLeases' | 'releaseLease'>;

/**
 * The VM's existing lease if any (sticky across restarts), else the first free guest address
 * from .2 upwards. Throws E_SUBNET_EXHAUSTED when every address is taken.
 */
export function allocateLease(store: LeaseStore, subnet: Cidr, vmId: string): LeaseRecord {
  const existing = store.getLease(vmId);
  if (existing && isGuestAddress(subnet, existing.ip)) return existing;
  // A lease from an older subnet setting would be unroutable: give it up and take a new one.
  if (existing) store.releaseLease(vmId);
  // A hint only: skip addresses we already know are taken; the constraint still decides.
  const known = new Set(store.listLeases().map((l) => l.ip));
  for (const pass of [false, true]) {
    for (const n of guestAddresses(subnet)) {
      const ip = formatIp(n);
      if (known.has(ip) !== pass) continue;
      try {
        if (store.tryLease(ip, vmId)) return store.getLease(vmId)!;
      } catch (err) {
        // The same VM won a lease concurrently elsewhere (vm_id is UNIQUE): that one is ours.
        if (isUniqueViolation(err, 'leases.vm_id')) return store.getLease(vmId)!;
        throw err;
      }
    }
    // The second pass retries the hinted ones: one may have been released since.
  }
  const cap = guestCapacity(subnet);
  throw new BangerError(
    ErrorCodes.SUBNET_EXHAUSTED,
    `no free IP address left in ${formatCidr(subnet)}: all ${cap} guest addresses are leased (delete a VM or configure a larger subnet)`,
    { details: { subnet: formatCidr(subnet), capacity: cap } },
  );
}

export function isGuestAddress(subnet: Cidr, ip: string): boolean {
  const n = parseIp(ip);
  return n >= subnet.network + 2 && n <= broadcast(subnet) - 1;
}
