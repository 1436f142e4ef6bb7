// bench/suspend.ts (run by bench/suspend.sh inside a network namespace, engine started): for a
// 256 MiB QEMU guest, a cold start to ssh-ready (the first `ssh true` that succeeds), then
// `vm stop --save` and a start of the suspended VM to ssh-ready, the ratio of the two medians
// (the issue's target: at most 0.15), and the cost of `vm clone` (a disk copy) on this filesystem.
//
//   node --import tsx bench/suspend.ts [--iterations 3]
//   BENCH_TRACE=1 prints each ssh attempt after a resume (a lost first SYN costs a 1 s retry).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths, vmPaths } from '../app/base/paths.js';
import { clientSshArgv } from '../app/cli/ssh.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const paths = resolvePaths(process.env);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Until `ssh VM true` succeeds: what a user waits for before they can work. */
async function sshReady(e: ControlClient, name: string, trace = false): Promise<void> {
  const argv = [...(await clientSshArgv(e, paths, name)), '-o', 'ConnectTimeout=2', 'true'];
  const deadline = Date.now() + 120_000;
  const t0 = performance.now();
  while (Date.now() < deadline) {
    const a = performance.now();
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (trace && process.env.BENCH_TRACE)
      console.log(
        `  ssh attempt at ${(a - t0).toFixed(0)} ms: ${r.status} in ${(performance.now() - a).toFixed(0)} ms ${r.stderr.trim().split('\n').pop()}`,
      );
    if (r.status === 0) return;
    await sleep(20);
  }
  throw new Error('ssh not ready within 120 s');
}

function df(path: string): string {
  return spawnSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).stdout.trim() || '?';
}

async function main(): Promise<void> {
  const e = await ControlClient.connect(paths.controlSocket);
  const cold: number[] = [];
  const save: number[] = [];
  const resume: number[] = [];
  const resumeCall: number[] = [];
  const restoreMs: number[] = [];
  try {
    const vm = await e.createVm({ name: 'suspbench', backend: 'qemu', memoryMib: 256 });
    for (let i = 0; i < iterations; i++) {
      let t = performance.now();
      await e.startVm(vm.name);
      await sshReady(e, vm.name);
      cold.push(performance.now() - t);
      t = performance.now();
      const saved = await e.stopVm(vm.name, { save: true });
      save.push(performance.now() - t);
      if (!saved.suspended) throw new Error('not suspended');
      t = performance.now();
      const back = await e.startVm(vm.name);
      resumeCall.push(performance.now() - t);
      const ev = (await e.events(10))
        .map((x) => /resumed from suspend \((\d+) ms\)/.exec(x.message)?.[1])
        .find(Boolean);
      restoreMs.push(Number(ev));
      await sshReady(e, vm.name, true);
      resume.push(performance.now() - t);
      if (back.lastError) throw new Error(`did not resume: ${back.lastError}`);
      await e.stopVm(vm.name);
    }
    // Where the last resume's and cold boot's time went, step by step (the engine log).
    const log = await e.engineLog(400);
    for (const kind of ['boot', 'restore'])
      console.log(
        `${kind} steps (ms): ${
          log
            .filter((l) => l.includes(`${kind} steps (ms)`))
            .at(-1)
            ?.replace(/^.*\(ms\)"?,?/, '') ?? '?'
        }`,
      );
    const disk = vmPaths(paths, vm.id).disk;
    const t = performance.now();
    const c = await e.cloneVm(vm.name, 'suspbench-clone');
    const cloneMs = performance.now() - t;
    const copy = statSync(vmPaths(paths, c.id).disk);
    const src = statSync(disk);
    const fs = df(disk);
    await e.removeVm(c.name, { force: true });
    await e.removeVm(vm.name, { force: true });
    const b = median(cold);
    const line = (what: string, xs: number[]) =>
      `${what.padEnd(30)} median ${median(xs).toFixed(0).padStart(6)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})  ratio to cold ${(median(xs) / b).toFixed(3)}`;
    console.log(line('cold start to ssh-ready', cold));
    console.log(line('stop --save (256 MiB)', save));
    console.log(line('  of which the restore steps', restoreMs));
    console.log(line('start suspended (the call)', resumeCall));
    console.log(line('start suspended to ssh-ready', resume));
    console.log(`target: resume <= 0.15 of cold: ${median(resume) / b <= 0.15 ? 'met' : 'NOT met'}`);
    console.log(
      `clone on ${fs}: ${cloneMs.toFixed(0)} ms; disk ${(src.size / 2 ** 20).toFixed(0)} MiB apparent, ` +
        `${((src.blocks * 512) / 2 ** 20).toFixed(1)} MiB allocated; the copy allocates ${((copy.blocks * 512) / 2 ** 20).toFixed(1)} MiB`,
    );
  } finally {
    await e.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
