// bench/boot.ts (run by bench/boot.sh inside a network namespace, engine already started):
// time from "start" to the guest's BANGER_READY line on the console, through banger (a start
// request to the engine over its control socket, as every CLI verb sends it) against the bare
// QEMU command line banger itself ran (same kernel, initramfs, disk contents, TAP on the same
// bridge, same kernel command line). Runs alternate so host drift hits both equally.
//
//   node --import tsx bench/boot.ts [--iterations 3]
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths, vmPaths } from '../app/base/paths.js';
import type { VmRecord } from '../app/contract/api.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const MARKER = 'BANGER_READY';
const POLL_MS = 10;
const paths = resolvePaths(process.env);
const work = mkdtempSync(join(tmpdir(), 'banger-bench-boot-'));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function size(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

/** Wait until the marker appears in file after byte offset from; returns the time it was seen. */
async function waitMarker(file: string, from: number, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (size(file) > from) {
      const text = readFileSync(file).subarray(from).toString('utf8');
      if (text.includes(MARKER)) return performance.now();
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no ${MARKER} in ${file} within ${timeoutMs} ms:\n${readFileSync(file, 'utf8').slice(-1500)}`);
}

function sh(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => {
      err += d;
    });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${code} ${err}`))));
  });
}

function opt(argv: string[], flag: string): number {
  const i = argv.indexOf(flag);
  if (i < 0) throw new Error(`banger's QEMU command line has no ${flag}`);
  return i + 1;
}

async function bootBanger(e: ControlClient, vm: VmRecord): Promise<{ ms: number; argv: string[] }> {
  const log = vmPaths(paths, vm.id).consoleLog;
  const from = size(log);
  const t0 = performance.now();
  const r = await e.startVm(vm.name);
  const t1 = await waitMarker(log, from);
  const argv = readFileSync(`/proc/${r.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  await e.stopVm(vm.name, { force: true });
  return { ms: t1 - t0, argv };
}

/** banger's own argv, pointed at a copy of the disk, its own QMP socket and TAP. */
function bareArgv(argv: string[], disk: string, tap: string): string[] {
  const a = [...argv];
  a[opt(a, '-name')] = 'bench-bare';
  a[opt(a, '-qmp')] = `unix:${join(work, 'qmp.sock')},server=on,wait=off`;
  a[opt(a, '-drive')] = a[opt(a, '-drive')].replace(/file=[^,]+/, `file=${disk}`);
  a[opt(a, '-netdev')] = a[opt(a, '-netdev')].replace(/ifname=[^,]+/, `ifname=${tap}`);
  return a;
}

async function bootBare(argv: string[], bridge: string): Promise<number> {
  const tap = 'bench-tap0';
  await sh(['ip', 'tuntap', 'add', tap, 'mode', 'tap']);
  await sh(['ip', 'link', 'set', tap, 'master', bridge, 'up']);
  const log = join(work, 'bare-console.log');
  rmSync(log, { force: true });
  const out = openSync(log, 'a');
  try {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, out] });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const t1 = await waitMarker(log, 0).finally(() => child.kill('SIGKILL'));
    await exited;
    return t1 - t0;
  } finally {
    closeSync(out);
    await sh(['ip', 'link', 'del', tap]).catch(() => undefined);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const e = await ControlClient.connect(paths.controlSocket);
  try {
    const vm = await e.createVm({ name: 'bench', backend: 'qemu' });
    // Warm-up (not counted): first boot makes the dropbear host key; caches fill for both.
    const warm = await bootBanger(e, vm);
    const disk = join(work, 'disk.ext4');
    const bridge = process.env.BANGER_BRIDGE || 'banger0';
    const banger: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < iterations; i++) {
      banger.push((await bootBanger(e, vm)).ms);
      await sh(['cp', '--sparse=always', '--reflink=auto', vmPaths(paths, vm.id).disk, disk]);
      bare.push(await bootBare(bareArgv(warm.argv, disk, 'bench-tap0'), bridge));
    }
    await e.removeVm(vm.name, { force: true });
    const mb = median(banger);
    const mq = median(bare);
    const fmt = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(' ');
    console.log(`accel: ${warm.argv[opt(warm.argv, '-accel')]}; kernel ${warm.argv[opt(warm.argv, '-kernel')]}`);
    console.log(`banger (start request -> ${MARKER}): ${fmt(banger)} s, median ${(mb / 1000).toFixed(2)} s`);
    console.log(`bare qemu (exec -> ${MARKER}):      ${fmt(bare)} s, median ${(mq / 1000).toFixed(2)} s`);
    console.log(`ratio banger/bare: ${(mb / mq).toFixed(3)} (target <= 1.1)`);
  } finally {
    await e.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
