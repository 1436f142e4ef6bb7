// vm port add / rm: change a VM's published ports. On a VM that runs the change takes effect at
// once (the listener opens before the record says so, and closes after it no longer does); on
// a stopped one the port is checked free now and opened at its next start. One operation per
// VM at a time (the lifecycle's exclusive), so a start never sees half a change.
import type { VmRecord } from '../../contract/api.js';
import { formatPort, matchesKey, parsePortKey, parsePortSpec, portsClash } from '../../contract/port-spec.js';
import { isLive } from '../../contract/vm-facts.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { Store } from '../store.js';
import type { VmLifecycle } from '../vm/lifecycle.js';
import type { PortForwards } from './forwards.js';
import { probeFree, refusePrivileged, refuseStoreClash } from './checks.js';

export interface PortServiceDeps {
  store: Store;
  lifecycle: VmLifecycle;
  forwards: PortForwards;
}

export async function addPort(d: PortServiceDeps, name: string, spec: string): Promise<VmRecord> {
  const p = parsePortSpec(spec);
  const vm = d.lifecycle.get(name);
  return d.lifecycle.exclusive(vm, 'port add', async () => {
    const cur = d.lifecycle.get(vm.name);
    const mine = cur.ports ?? [];
    const twin = mine.find((q) => portsClash(p, q));
    if (twin)
      throw new BangerError(
        ErrorCodes.PORT_TAKEN,
        `VM "${cur.name}" already publishes ${formatPort(twin)} (vm port rm ${cur.name} ${twin.hostPort} first)`,
      );
    refuseStoreClash(d.store.listVms(), cur.id, [p]);
    refusePrivileged([p]);
    const live = isLive(cur.state);
    if (live) await d.forwards.open(cur.id, [p]);
    else await probeFree([p]);
    try {
      return d.lifecycle.update(cur, { ports: [...mine, p] });
    } catch (err) {
      if (live) await d.forwards.close(cur.id, [p]);
      throw err;
    }
  });
}

export async function removePort(d: PortServiceDeps, name: string, key: string): Promise<VmRecord> {
  const k = parsePortKey(key);
  const vm = d.lifecycle.get(name);
  return d.lifecycle.exclusive(vm, 'port rm', async () => {
    const cur = d.lifecycle.get(vm.name);
    const gone = (cur.ports ?? []).filter((p) => matchesKey(p, k));
    if (!gone.length)
      throw new BangerError(
        ErrorCodes.NOT_FOUND,
        `VM "${cur.name}" publishes no port matching "${key}" (banger vm port ls ${cur.name})`,
      );
    const next = d.lifecycle.update(cur, { ports: (cur.ports ?? []).filter((p) => !matchesKey(p, k)) });
    await d.forwards.close(cur.id, gone);
    return next;
  });
}
