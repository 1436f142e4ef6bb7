// bench/snapshot.ts (run by bench/snapshot.sh inside a network namespace, engine started): for a
// 256 MiB QEMU guest, the time to snapshot it and to restore it (engine calls over the control
// socket, as the CLI makes them) against a cold boot to the guest's BANGER_READY line, the floor
// measured in the same run. Prints medians and ratios.
//
//   node --import tsx bench/snapshot.ts [--iterations 3]
import { readFileSync, statSync } from 'node:fs';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths, vmPaths } from '../app/base/paths.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const paths = resolvePaths(process.env);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function waitMarker(file: string, from: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (statSync(file).size > from && readFileSync(file).subarray(from).includes('BANGER_READY')) return;
    await sleep(10);
  }
  throw new Error('no BANGER_READY within 120 s');
}

async function main(): Promise<void> {
  const e = await ControlClient.connect(paths.controlSocket);
  const boot: number[] = [];
  const snap: number[] = [];
  const restore: number[] = [];
  try {
    const vm = await e.createVm({ name: 'snapbench', backend: 'qemu', memoryMib: 256 });
    const log = vmPaths(paths, vm.id).consoleLog;
    for (let i = 0; i < iterations; i++) {
      const from = statSync(log, { throwIfNoEntry: false })?.size ?? 0;
      let t = performance.now();
      await e.startVm(vm.name);
      await waitMarker(log, from);
      boot.push(performance.now() - t);
      t = performance.now();
      await e.snapshotVm(vm.name, `s${i}`);
      snap.push(performance.now() - t);
      t = performance.now();
      // What `vm restore` does to a running VM: kill it, copy the disk back, load; the guest runs.
      await e.restoreVm(vm.name, `s${i}`);
      restore.push(performance.now() - t);
      await e.stopVm(vm.name, { force: true });
    }
    const size = (await e.listSnapshots(vm.name)).at(-1)?.sizeBytes ?? 0;
    await e.removeVm(vm.name, { force: true });
    const b = median(boot);
    const line = (what: string, xs: number[]) =>
      `${what.padEnd(22)} median ${median(xs).toFixed(0).padStart(6)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})  ratio to cold boot ${(median(xs) / b).toFixed(3)}`;
    console.log(line('cold boot to ready', boot));
    console.log(line('snapshot (256 MiB)', snap));
    console.log(line('restore (kill + load)', restore));
    console.log(`snapshot on disk: ${(size / 2 ** 20).toFixed(1)} MiB (state stream + sparse disk copy)`);
  } finally {
    await e.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
