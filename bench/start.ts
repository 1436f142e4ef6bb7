// bench/start.ts: time from "start the VMM" to "InstanceStart accepted", banger's Firecracker
// driver (all boot steps, UndoStack, runner) against a bare client making the same API calls
// to the same simulator in the same run. Target: banger adds <= 10 ms (median).
//
//   node --import tsx bench/start.ts [--iterations 20]
//
// Both sides spawn test/fixtures/firecracker-sim with a FIFO on stdin and a log file on
// stdout, poll for the socket every 10 ms (the Go SDK's period), then PUT logger, metrics,
// machine-config, boot-source, drives, network-interfaces and InstanceStart. Runs alternate so
// drift on the host hits both equally.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner } from '../app/base/process.js';
import { FirecrackerDriver } from '../app/engine/firecracker/driver.js';
import { createConsoleFifo } from '../app/engine/driver/console-fifo.js';
import type { LaunchSpec, VmmHandle } from '../app/engine/driver/contract.js';
import { UndoStack } from '../app/engine/driver/undo.js';
import { createEngine } from '../app/engine/wiring.js';
import { nullLogger } from '../app/base/log.js';
import { fakeAssets } from '../test/helpers/engine.js';
import { statSync } from 'node:fs';
import { Store } from '../app/engine/store.js';

const SIM = fileURLToPath(new URL('../test/fixtures/firecracker-sim', import.meta.url));
const argv = process.argv.slice(2);
const iterations = Number(argv[argv.indexOf('--iterations') + 1] || 20) || 20;
const runner = createRunner();
const driver = new FirecrackerDriver({ runner, bin: SIM });

async function makeSpec(i: number): Promise<LaunchSpec> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-start-'));
  const kernel = join(dir, 'vmlinux');
  const rootfs = join(dir, 'rootfs.ext4');
  writeFileSync(kernel, 'k');
  writeFileSync(rootfs, Buffer.alloc(1024));
  const now = new Date().toISOString();
  const id = `bench${i}`;
  const spec: LaunchSpec = {
    vm: {
      id,
      name: id,
      backend: 'firecracker',
      image: null,
      kernel: null,
      vcpus: 1,
      memoryMib: 128,
      diskBytes: 1024,
      bootArgs: '',
      mac: '06:00:ac:1e:00:09',
      ip: null,
      state: 'starting',
      pid: null,
      socketPath: join(dir, 'fc.sock'),
      tap: 'bench-tap0',
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      stoppedAt: null,
      lastError: null,
      exitCode: null,
      exitSignal: null,
    },
    dir,
    kernelPath: kernel,
    initrdPath: null,
    rootfsPath: rootfs,
    bootArgs: 'console=ttyS0 reboot=k panic=1 pci=off',
    tap: 'bench-tap0',
    mac: '06:00:ac:1e:00:09',
    consoleLog: join(dir, 'console.log'),
    consoleFifo: join(dir, 'console.in'),
    socketPath: join(dir, 'fc.sock'),
    vmmLog: join(dir, 'fc.log'),
    metricsPath: join(dir, 'metrics'),
  };
  await createConsoleFifo(runner, spec.consoleFifo); // the engine makes it before boot, for both sides
  return spec;
}

async function viaDriver(spec: LaunchSpec): Promise<{ ms: number; pid: number }> {
  const undo = new UndoStack();
  const handle: { current: VmmHandle | null } = { current: null };
  const t0 = performance.now();
  for (const step of driver.bootSteps(spec, undo, handle)) await step.run();
  const ms = performance.now() - t0;
  undo.commit();
  return { ms, pid: handle.current!.pid };
}

function put(agent: http.Agent, sock: string, method: string, path: string, body?: unknown): Promise<number> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: sock,
        method,
        path,
        agent,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function bare(spec: LaunchSpec): Promise<{ ms: number; pid: number }> {
  const sock = spec.socketPath;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const t0 = performance.now();
  for (const f of [spec.vmmLog, spec.metricsPath, spec.consoleLog]) closeSync(openSync(f, 'a'));
  const inFd = openSync(spec.consoleFifo, constants.O_RDWR);
  const outFd = openSync(spec.consoleLog, 'a');
  const child = spawn(SIM, ['--api-sock', sock, '--id', spec.vm.id, '--log-path', spec.vmmLog, '--level', 'Info'], {
    stdio: [inFd, outFd, outFd],
    detached: true,
  });
  closeSync(inFd);
  closeSync(outFd);
  child.unref();
  for (;;) {
    if (existsSync(sock) && (await put(agent, sock, 'GET', '/machine-config').catch(() => 0)) === 200) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const calls: [string, unknown][] = [
    ['/logger', { log_path: spec.vmmLog, level: 'Info', show_level: true, show_log_origin: false }],
    ['/metrics', { metrics_path: spec.metricsPath }],
    ['/machine-config', { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false }],
    ['/boot-source', { kernel_image_path: spec.kernelPath, boot_args: spec.bootArgs }],
    [
      '/drives/rootfs',
      { drive_id: 'rootfs', path_on_host: spec.rootfsPath, is_root_device: true, is_read_only: false },
    ],
    ['/network-interfaces/eth0', { iface_id: 'eth0', host_dev_name: spec.tap, guest_mac: spec.mac }],
    ['/actions', { action_type: 'InstanceStart' }],
  ];
  for (const [path, body] of calls) {
    const status = await put(agent, sock, 'PUT', path, body);
    if (status !== 204) throw new Error(`bare client: ${path} -> ${status}`);
  }
  const ms = performance.now() - t0;
  agent.destroy();
  return { ms, pid: child.pid! };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const d: number[] = [];
const b: number[] = [];
// One warm-up of each (first spawn pays for disk caches).
for (let i = -1; i < iterations; i++) {
  const order = i % 2 === 0 ? [viaDriver, bare] : [bare, viaDriver];
  for (const fn of order) {
    const spec = await makeSpec(i + 1000 * (fn === bare ? 1 : 0));
    const r = await fn(spec);
    process.kill(r.pid, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 5));
    rmSync(spec.dir, { recursive: true, force: true });
    if (i >= 0) (fn === bare ? b : d).push(r.ms);
  }
}
// The whole engine: `vm start` (state changes, store writes, events, dirs, FIFO, boot steps,
// console tail, DNS record) until InstanceStart is accepted and the VM is "running".
const engineDir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
mkdirSync(join(engineDir, 's'), { recursive: true });
const engStore = new Store(join(engineDir, 's', 'banger.db'));
const eng = createEngine({
  store: engStore,
  env: {
    BANGER_STATE_DIR: join(engineDir, 's'),
    BANGER_RUNTIME_DIR: join(engineDir, 'r'),
    BANGER_CONFIG_DIR: join(engineDir, 'c'),
    BANGER_CACHE_DIR: join(engineDir, 'k'),
    BANGER_NETWORK: 'none',
    BANGER_DNS_ADDR: '127.0.0.1:0',
    FIRECRACKER_BIN: SIM,
    BANGER_BACKEND: 'firecracker',
  },
  full: true,
  logger: nullLogger,
});
{
  const assets = fakeAssets(engineDir);
  const now = new Date().toISOString();
  engStore.insertKernel({
    name: 'default',
    path: assets.kernel,
    initrdPath: null,
    source: 'add',
    version: null,
    createdAt: now,
  });
  engStore.insertImage({
    name: 'default',
    source: 'bench',
    path: assets.image,
    sizeBytes: statSync(assets.image).size,
    sha256: '-',
    buildLog: null,
    createdAt: now,
  });
  await eng.start();
}
const en: number[] = [];
for (let i = -1; i < iterations; i++) {
  const name = `e${i + 1}`;
  await eng.createVm({ name });
  const t0 = performance.now();
  const vm = await eng.startVm(name);
  if (i >= 0) en.push(performance.now() - t0);
  await eng.removeVm(name, { force: true });
  void vm;
}
await eng.close();
engStore.close();
rmSync(engineDir, { recursive: true, force: true });

const md = median(d);
const mb = median(b);
console.log(`iterations: ${iterations}`);
console.log(
  `banger driver  median ${md.toFixed(1)} ms  (min ${Math.min(...d).toFixed(1)}, max ${Math.max(...d).toFixed(1)})`,
);
console.log(
  `bare client    median ${mb.toFixed(1)} ms  (min ${Math.min(...b).toFixed(1)}, max ${Math.max(...b).toFixed(1)})`,
);
const me = median(en);
console.log(
  `engine vm start median ${me.toFixed(1)} ms  (min ${Math.min(...en).toFixed(1)}, max ${Math.max(...en).toFixed(1)})`,
);
console.log(`driver adds    ${(md - mb).toFixed(1)} ms  (ratio ${(md / mb).toFixed(2)})`);
console.log(
  `engine adds    ${(me - mb).toFixed(1)} ms  (ratio ${(me / mb).toFixed(2)})  target <= 10 ms: ${me - mb <= 10 ? 'OK' : 'OVER'}`,
);
