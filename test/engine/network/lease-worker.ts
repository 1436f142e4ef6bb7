// Child process for the lease race test: its own Store connection on the shared SQLite file,
// waits for a common start time, then allocates leases as fast as it can.
import { Store } from '../../../app/engine/store.js';
import { allocateLease, type LeaseStore } from '../../../app/engine/network/leases.js';
import { parseCidr } from '../../../app/engine/network/cidr.js';

const [file, subnet, prefix, countS, startAtS] = process.argv.slice(2);
// Without arguments (a test runner picking up every file in the folder) there is nothing to do.
if (file && startAtS) await main();

async function main(): Promise<void> {
  const store = new Store(file);
  let lost = 0;
  // Counts the inserts the PRIMARY KEY turned down: proof that the race really happened.
  const counting: LeaseStore = {
    getLease: (id) => store.getLease(id),
    listLeases: () => store.listLeases(),
    releaseLease: (id) => store.releaseLease(id),
    tryLease: (ip, id) => {
      const ok = store.tryLease(ip, id);
      if (!ok) lost++;
      return ok;
    },
  };
  const wait = Number(startAtS) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const got: Record<string, string> = {};
  for (let i = 0; i < Number(countS); i++) {
    const id = prefix + i.toString(16).padStart(6, '0');
    got[id] = allocateLease(counting, parseCidr(subnet), id).ip;
  }
  store.close();
  process.stdout.write(JSON.stringify({ got, lost }));
}
