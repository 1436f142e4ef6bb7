// test-run: group guest (boots a QEMU guest under TCG: one guest at a time, beside the unit files)
// The QEMU driver booting a real guest (Debian cloud kernel + busybox rootfs, TCG here, no NIC
// so no namespace is needed): console out to the log file, keystrokes in through the FIFO,
// graceful stop via Ctrl-Alt-Del, forced stop, and the undo path when QEMU dies at launch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runIf } from '../../helpers/skip.js';
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { listProcs } from '../../../app/engine/vm/vmm-guard.js';
import { join } from 'node:path';
import { createRunner, which, type SpawnedProcess } from '../../../app/base/process.js';
import { QemuDriver } from '../../../app/engine/qemu/driver.js';
import { pidAlive } from '../../../app/base/pid.js';
import type { LaunchSpec, VmmHandle } from '../../../app/engine/driver/contract.js';
import { UndoStack } from '../../../app/engine/driver/undo.js';
import { BangerError } from '../../../app/base/errors.js';
import { guestAssets, READY_MARKER, SHUTDOWN_MARKER, type GuestAssets } from './guest-fixture.js';
import { vmRecord as buildVm } from '../../helpers/builders.js';

const QEMU = which('qemu-system-x86_64');
const real = runIf(test, QEMU ? null : 'missing qemu-system-x86_64 (apt-get install qemu-system-x86)');
const runner = createRunner();
const root = mkdtempSync(join(tmpdir(), 'banger-qemu-drv-'));
const driver = new QemuDriver({ runner, bin: QEMU ?? 'qemu-system-x86_64', accel: 'auto' });
let assets: GuestAssets | null = null;
const started: number[] = [];

const vmRecord = (id: string) =>
  buildVm({
    id,
    name: `t-${id}`,
    backend: 'qemu',
    image: 'test',
    kernel: 'test',
    diskBytes: 32 << 20,
    mac: '06:00:ac:1e:00:09',
    state: 'starting',
  });

async function makeSpec(id: string, over: Partial<LaunchSpec> = {}): Promise<LaunchSpec> {
  const dir = join(root, id);
  await runner.run(['mkdir', '-p', dir]);
  const rootfs = join(dir, 'disk.ext4');
  copyFileSync(assets!.rootfs, rootfs);
  const fifo = join(dir, 'console.in');
  await runner.run(['mkfifo', '-m', '600', fifo]);
  return {
    vm: vmRecord(id),
    dir,
    kernelPath: assets!.kernel,
    initrdPath: assets!.initrd,
    rootfsPath: rootfs,
    bootArgs: 'console=ttyS0 reboot=k panic=1 pci=off',
    tap: null,
    mac: '06:00:ac:1e:00:09',
    consoleLog: join(dir, 'console.log'),
    consoleFifo: fifo,
    socketPath: join(dir, 'qmp.sock'),
    vmmLog: join(dir, 'vmm.log'),
    metricsPath: join(dir, 'metrics.json'),
    ...over,
  };
}

async function boot(spec: LaunchSpec): Promise<{ handle: VmmHandle; undo: UndoStack; steps: string[] }> {
  const undo = new UndoStack();
  const h: { current: VmmHandle | null } = { current: null };
  const steps: string[] = [];
  try {
    for (const s of driver.bootSteps(spec, undo, h)) {
      steps.push(s.name);
      await s.run();
    }
  } catch (err) {
    if (h.current) started.push(h.current.pid);
    await undo.unwind();
    throw err;
  }
  started.push(h.current!.pid);
  return { handle: h.current!, undo, steps };
}

async function waitFor(file: string, re: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const m = re.exec(text);
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`no ${re} in ${file} within ${ms} ms; tail: ${text.slice(-800)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function typeUntil(fifo: string, text: string, log: string, re: RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    typeInto(fifo, text);
    try {
      await waitFor(log, re, Math.min(2000, Math.max(0, deadline - Date.now())));
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
  }
}

function typeInto(fifo: string, text: string): void {
  // QEMU holds the read side; O_NONBLOCK so a dead QEMU fails fast (ENXIO) instead of hanging.
  const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

test.before(async () => {
  if (QEMU) assets = await guestAssets();
});

real(
  'boot a real guest: console marker, root=/dev/vda from the driver, FIFO input echoed, graceful Ctrl-Alt-Del stop',
  async () => {
    const spec = await makeSpec('a00000000001');
    const t0 = Date.now();
    const { handle, steps, undo } = await boot(spec);
    assert.equal(steps, ['launch-vmm', 'wait-qmp', 'query-status']);
    assert.equal(undo.names(), ['kill qemu']);
    assert.ok(pidAlive(handle.pid));
    assert.ok(await driver.probe(handle));
    const cmdline = readFileSync(`/proc/${handle.pid}/cmdline`, 'utf8');
    assert.ok(driver.ownsProcess(cmdline, spec.vm));
    assert.not.ok(driver.ownsProcess(cmdline, vmRecord('b00000000009')));
    // The form reconcile sees (listProcs, argv joined with NULs).
    const ps = listProcs().find((p) => p.pid === handle.pid);
    assert.ok(ps && driver.ownsProcess(ps.argv.join('\0'), spec.vm), ps?.argv.join(' '));
    assert.ok(handle.exited instanceof Promise);

    const ready = await waitFor(spec.consoleLog, new RegExp(`${READY_MARKER} .*`), 25_000);
    const bootMs = Date.now() - t0;
    // The rootfs really is the virtio disk, mounted rw through the root= the driver added.
    assert.match(ready, /root=\/dev\/vda /);
    assert.match(ready, /root=\/dev\/vda rw console=ttyS0 reboot=k panic=1 pci=off/);
    if (driver.accelDecision().accel === 'tcg') assert.match(ready, /tsc_early_khz=\d+/);

    // Keystrokes go in through the FIFO; the guest's shell computes the answer. The shell may not
    // read yet right after the marker: type again until it answers (within the deadline).
    await typeUntil(spec.consoleFifo, 'echo BANGER_ECHO_$((6*7))\n', spec.consoleLog, /BANGER_ECHO_42/, 10_000);

    const s0 = Date.now();
    const exit = await driver.stop(handle, { timeoutMs: 20_000 });
    const stopMs = Date.now() - s0;
    assert.equal(exit, { exitCode: 0, signal: null, how: 'graceful' });
    assert.match(readFileSync(spec.consoleLog, 'utf8'), new RegExp(SHUTDOWN_MARKER));
    assert.not.ok(pidAlive(handle.pid));
    assert.not.ok(existsSync(spec.socketPath));
    assert.not.ok(await driver.probe(handle));
    console.log(`\n  [qemu ${driver.accelDecision().accel}] marker after ${bootMs} ms, graceful stop in ${stopMs} ms`);
  },
);

real('force stop: SIGKILL, how=kill, socket removed', async () => {
  const spec = await makeSpec('a00000000002');
  const { handle } = await boot(spec);
  await waitFor(spec.consoleLog, /Linux version/, 15_000);
  const exit = await driver.stop(handle, { force: true, timeoutMs: 10_000 });
  assert.equal(exit, { exitCode: null, signal: 'SIGKILL', how: 'kill' });
  assert.not.ok(pidAlive(handle.pid));
  assert.not.ok(existsSync(spec.socketPath));
  // Stopping what is already gone says so.
  assert.equal((await driver.stop(handle, { timeoutMs: 1000 })).how, 'gone');
});

real('a guest that ignores Ctrl-Alt-Del is ended by QMP quit / SIGTERM (how=term), adoption-style handle', async () => {
  // A paused QEMU never runs the guest, so the key chord goes nowhere.
  const dir = join(root, 'paused');
  await runner.run(['mkdir', '-p', dir]);
  const sock = join(dir, 'qmp.sock');
  const p: SpawnedProcess = runner.spawn(
    [
      QEMU!,
      '-name',
      'banger-c00000000003',
      '-M',
      'microvm',
      '-accel',
      'tcg',
      '-nodefaults',
      '-no-user-config',
      '-nographic',
      '-S',
      '-device',
      'i8042',
      '-qmp',
      `unix:${sock},server=on,wait=off`,
    ],
    { stdio: 'ignore', detached: true },
  );
  started.push(p.pid);
  const deadline = Date.now() + 5000;
  while (!existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // No exited promise: as after an engine restart, the driver must poll the pid.
  const handle: VmmHandle = { pid: p.pid, socketPath: sock };
  assert.ok(await driver.probe(handle));
  const t0 = Date.now();
  const exit = await driver.stop(handle, { timeoutMs: 500 });
  assert.is(exit.how, 'term');
  assert.ok(Date.now() - t0 < 4000);
  assert.not.ok(pidAlive(p.pid));
});

real('QEMU dying at launch fails wait-qmp with the console tail, and the undo leaves nothing behind', async () => {
  const spec = await makeSpec('a00000000004', { kernelPath: join(root, 'no-such-kernel') });
  try {
    await boot(spec);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, 'E_VMM');
    assert.match((err as Error).message, /qemu exited before QMP came up \(exit 1\): .*no-such-kernel/);
  }
  assert.not.ok(existsSync(spec.socketPath));
  assert.not.ok(pidAlive(started[started.length - 1]));
});

real('accel forced to kvm on a host without a usable /dev/kvm: launch refused, nothing spawned', async () => {
  const d = new QemuDriver({
    runner,
    bin: QEMU!,
    accel: 'kvm',
    accelInputs: () => ({ cpuinfo: 'flags\t: vmx\n', kvmExists: false, kvmRw: false }),
  });
  const spec = await makeSpec('a00000000005');
  const undo = new UndoStack();
  const h: { current: VmmHandle | null } = { current: null };
  try {
    await d.bootSteps(spec, undo, h)[0].run();
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_VMM');
    assert.match(
      (err as Error).message,
      /qemu cannot run here: kvm forced by config qemuAccel=kvm, but \/dev\/kvm missing/,
    );
  }
  assert.is(h.current, null);
  assert.is(undo.size, 0);
  const av = await d.available();
  assert.is(av.ok, false);
});

real('available(): version and the accel reason; a missing binary says so', async () => {
  const av = await driver.available();
  assert.ok(av.ok, av.reason);
  assert.match(av.version ?? '', /^\d+\.\d+/);
  assert.match(av.reason, /(tcg|kvm)/);
  const none = await new QemuDriver({ runner, bin: 'qemu-system-nope', accel: 'auto' }).available();
  assert.equal(none.ok, false);
  assert.match(none.reason, /qemu-system-nope not found on PATH/);
});

test.after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(root, { recursive: true, force: true });
});
test.run();
