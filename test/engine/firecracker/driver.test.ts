// The Firecracker driver against the simulator: the exact API conversation, undo on every
// failing step, the three ways to stop, and the sudo path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunner } from '../../../app/base/process.js';
import { FirecrackerDriver } from '../../../app/engine/firecracker/driver.js';
import { procStat, readCmdline } from '../../../app/engine/firecracker/launcher.js';
import { BangerError } from '../../../app/base/errors.js';
import { UndoStack } from '../../../app/engine/driver/undo.js';
import { boot, fakeSudo, leftovers, makeSpec, pidAlive, simEnv, SIM, tempDir } from './helpers.js';

const runner = createRunner();
const driver = () => new FirecrackerDriver({ runner, bin: SIM, socketTimeoutMs: 3000 });

test('boot makes the Go SDK calls in order, with exact bodies and Content-Length', async () => {
  const rec = join(tempDir(), 'rec.jsonl');
  const restore = simEnv({ SIM_RECORD: rec, SIM_CAD_DELAY_MS: '20' });
  const spec = makeSpec();
  const d = driver();
  try {
    const { handle, undo } = await boot(d, spec);
    undo.commit();
    assert.is(handle.socketPath, spec.socketPath);
    const argv = readCmdline(handle.pid)!;
    assert.equal(argv.slice(argv.indexOf('--api-sock')), [
      '--api-sock',
      spec.socketPath,
      '--id',
      spec.vm.id,
      '--log-path',
      spec.vmmLog,
      '--level',
      'Info',
      '--show-level',
    ]);
    const calls = readFileSync(rec, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const gets = calls.filter((c) => c.method === 'GET');
    assert.ok(
      gets.length >= 1 && gets.every((c) => c.path === '/machine-config'),
      'wait-socket probes GET /machine-config',
    );
    const puts = calls.filter((c) => c.method !== 'GET');
    assert.equal(
      puts.map((c) => [c.method, c.path, c.body, c.status]),
      [
        ['PUT', '/metrics', { metrics_path: spec.metricsPath }, 204],
        ['PUT', '/machine-config', { vcpu_count: 2, mem_size_mib: 256, smt: false, track_dirty_pages: false }, 204],
        ['PUT', '/boot-source', { kernel_image_path: spec.kernelPath, boot_args: spec.bootArgs }, 204],
        [
          'PUT',
          '/drives/rootfs',
          { drive_id: 'rootfs', path_on_host: spec.rootfsPath, is_root_device: true, is_read_only: false },
          204,
        ],
        ['PUT', '/network-interfaces/eth0', { iface_id: 'eth0', host_dev_name: 'bgr-tap5', guest_mac: spec.mac }, 204],
        ['PUT', '/actions', { action_type: 'InstanceStart' }, 204],
      ],
    );
    for (const c of puts) {
      assert.is(c.transferEncoding, null);
      assert.is(Number(c.contentLength), Buffer.byteLength(JSON.stringify(c.body)));
    }
    assert.match(readFileSync(spec.vmmLog, 'utf8'), 'Running Firecracker');
    assert.ok(await driver().probe(handle));
    const exit = await d.stop(handle, { timeoutMs: 3000 });
    assert.equal(exit, { exitCode: 0, signal: null, how: 'graceful' }, 'the launching driver knows the exit status');
    assert.not.ok(pidAlive(handle.pid));
    assert.not.ok(existsSync(spec.socketPath), 'the socket is cleaned after exit');
    assert.not.ok(await driver().probe(handle));
  } finally {
    restore();
  }
});

test('a VM without a TAP configures no network interface', async () => {
  const rec = join(tempDir(), 'rec.jsonl');
  const restore = simEnv({ SIM_RECORD: rec });
  try {
    const { handle } = await boot(driver(), makeSpec({ tap: null }));
    const paths = readFileSync(rec, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).path);
    assert.not.ok(paths.includes('/network-interfaces/eth0'));
    await driver().stop(handle, { force: true, timeoutMs: 0 });
  } finally {
    restore();
  }
});

// Each boot step fails once; nothing (process, socket, FIFO) may survive, and the step is named.
const failures: [string, Record<string, string>, (s: ReturnType<typeof makeSpec>) => void][] = [
  ['wait-socket', { SIM_FAIL: 'launch' }, () => {}],
  ['metrics', { SIM_FAIL: 'metrics' }, () => {}],
  ['machine-config', { SIM_FAIL: 'machine-config' }, () => {}],
  ['boot-source', {}, (s) => rmSync(s.kernelPath)],
  ['drives', { SIM_FAIL: 'drives' }, () => {}],
  ['network', { SIM_FAIL: 'network-interfaces' }, () => {}],
  ['instance-start', { SIM_FAIL: 'instance-start' }, () => {}],
];
for (const [step, env, breakIt] of failures) {
  test(`failure at ${step} unwinds: no process, socket or FIFO left`, async () => {
    const restore = simEnv(env);
    const spec = makeSpec();
    breakIt(spec);
    try {
      const err = await boot(driver(), spec).then(
        () => null,
        (e: BangerError) => e,
      );
      assert.ok(err instanceof BangerError, 'boot must fail');
      assert.is(err!.details?.step, step);
      assert.match(err!.message, `boot step "${step}" failed`);
      const pid = (err!.details?.handle as { pid: number } | null)?.pid;
      assert.ok(pid && pid > 0, 'the VMM had been launched');
      assert.not.ok(pidAlive(pid!), 'VMM process killed');
      assert.equal(leftovers(spec), []);
      if (step === 'wait-socket') assert.match(err!.message, 'exited with code 1');
      if (step === 'boot-source') assert.match(err!.message, 'kernel file cannot be opened');
      if (env.SIM_FAIL && step !== 'wait-socket') assert.match(err!.message, 'SIM_FAIL');
    } finally {
      restore();
    }
  });
}

test('failure at launch-vmm (no such binary) and a socket that never comes: both unwind', async () => {
  const spec = makeSpec();
  const bad = new FirecrackerDriver({ runner, bin: join(tempDir(), 'no-firecracker') });
  const err = await boot(bad, spec).then(
    () => null,
    (e: BangerError) => e,
  );
  assert.is(err?.details?.step, 'launch-vmm');
  assert.equal(leftovers(spec), []);

  const restore = simEnv({ SIM_SOCKET_DELAY_MS: '5000' });
  const slow = makeSpec();
  try {
    const t0 = Date.now();
    const e2 = await boot(new FirecrackerDriver({ runner, bin: SIM, socketTimeoutMs: 300 }), slow).then(
      () => null,
      (e: BangerError) => e,
    );
    assert.is(e2?.details?.step, 'wait-socket');
    assert.match(e2!.message, 'not ready after 300 ms');
    assert.ok(Date.now() - t0 < 2500);
    assert.not.ok(pidAlive((e2!.details!.handle as { pid: number }).pid));
    assert.equal(leftovers(slow), []);
  } finally {
    restore();
  }
});

test('stop: a guest ignoring Ctrl-Alt-Del gets SIGTERM after the timeout; force is SIGKILL at once', async () => {
  const restore = simEnv({ SIM_CAD_DELAY_MS: 'never' });
  try {
    const a = await boot(driver(), makeSpec());
    const t0 = Date.now();
    const exit = await driver().stop(a.handle, { timeoutMs: 200 });
    assert.ok(Date.now() - t0 >= 200, 'waited for the guest first');
    assert.is(exit.how, 'term');
    assert.is(exit.signal, 'SIGTERM');
    assert.not.ok(pidAlive(a.handle.pid));
    assert.not.ok(existsSync(a.handle.socketPath));

    const d = driver();
    const b = await boot(d, makeSpec());
    const t1 = Date.now();
    const forced = await d.stop(b.handle, { force: true, timeoutMs: 10_000 });
    assert.equal(
      forced,
      { exitCode: null, signal: 'SIGKILL', how: 'kill' },
      'the launching driver knows its child died of SIGKILL',
    );
    assert.ok(Date.now() - t1 < 1000);
    assert.equal(await d.stop(b.handle, { timeoutMs: 100 }), { exitCode: null, signal: null, how: 'gone' });
  } finally {
    restore();
  }
});

test("through sudo: the real VMM pid is found (not sudo's) and the socket is chowned back", async () => {
  const sudo = fakeSudo();
  const restore = simEnv({ SIM_CAD_DELAY_MS: '20' });
  try {
    const d = new FirecrackerDriver({ runner: createRunner({ isRoot: false }), bin: SIM });
    const spec = makeSpec();
    const { handle } = await boot(d, spec);
    const sudoLines = readFileSync(sudo.log, 'utf8').trim().split('\n');
    assert.ok(sudoLines[0].startsWith(`-n -- ${SIM} --api-sock ${spec.socketPath} --id ${spec.vm.id}`), sudoLines[0]);
    const sudoPid = procStat(handle.pid)!.ppid;
    assert.is.not(handle.pid, sudoPid);
    assert.match(readCmdline(sudoPid)!.join(' '), `${sudo.dir}/sudo`);
    assert.ok(readCmdline(handle.pid)!.includes('--api-sock'));
    // -h: chown(1) as root must never follow a symlink out of the user-writable runtime dir.
    assert.ok(
      sudoLines.includes(`-n -- chown -h ${process.getuid!()}:${process.getgid!()} ${spec.socketPath}`),
      'socket reclaimed',
    );
    const exit = await d.stop(handle, { timeoutMs: 3000 });
    assert.equal(exit, { exitCode: 0, signal: null, how: 'graceful' }, 'sudo passes the VMM status on');
  } finally {
    restore();
    sudo.restorePath();
  }
});

test('through sudo: a symlink planted at the socket path is refused, its target never chowned', async () => {
  const sudo = fakeSudo();
  // The VMM is slow to bind: a user who can write the runtime dir swaps in a symlink first.
  const restore = simEnv({ SIM_SOCKET_DELAY_MS: '300' });
  const spec = makeSpec();
  const target = join(spec.dir, 'precious');
  writeFileSync(target, 'root-owned\n');
  const before = statSync(target);
  try {
    const d = new FirecrackerDriver({
      runner: createRunner({ isRoot: false }),
      bin: SIM,
      owner: { uid: 4321, gid: 4321 },
      socketTimeoutMs: 3000,
    });
    const undo = new UndoStack();
    const steps = d.bootSteps(spec, undo, { current: null });
    await steps[0].run(); // launch
    symlinkSync(target, spec.socketPath);
    try {
      for (const step of steps.slice(1)) await step.run();
      assert.unreachable('booted through a symlink');
    } catch (err) {
      assert.is((err as BangerError).code, 'E_VMM', String(err));
      assert.match((err as Error).message, 'not a socket');
    } finally {
      await undo.unwind();
    }
    const after = statSync(target);
    assert.equal([after.uid, after.gid], [before.uid, before.gid], 'the target keeps its owner');
    // The refusal can come before the fake sudo even logged its launch: no log is no chown too.
    const sudoLog = existsSync(sudo.log) ? readFileSync(sudo.log, 'utf8') : '';
    assert.not.ok(sudoLog.includes('chown'), 'no chown ran');
  } finally {
    restore();
    sudo.restorePath();
  }
});

test('ownsProcess matches --id or the socket, as whole arguments', () => {
  const d = driver();
  const vm = makeSpec().vm;
  assert.ok(d.ownsProcess(`firecracker\0--api-sock\0/x/y.sock\0--id\0${vm.id}\0`, vm));
  assert.ok(d.ownsProcess(`firecracker --api-sock ${vm.socketPath} --id other`, vm));
  assert.not.ok(d.ownsProcess(`firecracker --api-sock /x/y.sock --id ${vm.id}extra`, vm));
  assert.not.ok(d.ownsProcess(`vim ${vm.id}`, vm));
});

test('available() runs --version, and explains a missing binary', async () => {
  const ok = await new FirecrackerDriver({ runner, bin: SIM, kvmPath: null }).available();
  assert.equal([ok.ok, ok.version], [true, '1.16.1']);
  const missing = await new FirecrackerDriver({ runner, bin: 'no-such-firecracker-bin', kvmPath: null }).available();
  assert.is(missing.ok, false);
  assert.match(missing.reason, 'not on PATH');
});

test('available() looks for KVM where kvmPath points, so the answer does not depend on this host', async () => {
  const dir = tempDir();
  const standIn = join(dir, 'kvm');
  writeFileSync(standIn, '', { mode: 0o600 });
  assert.ok((await new FirecrackerDriver({ runner, bin: SIM, kvmPath: standIn }).available()).ok);
  const gone = await new FirecrackerDriver({ runner, bin: SIM, kvmPath: join(dir, 'no-kvm') }).available();
  assert.is(gone.ok, false);
  assert.match(gone.reason, `${join(dir, 'no-kvm')} does not exist`);
});

test('per boot: a fresh vmm.log (the last kept as vmm.log.1) and metrics file; the log path is given once', async () => {
  const rec = join(tempDir(), 'rec.jsonl');
  const restore = simEnv({ SIM_RECORD: rec });
  const spec = makeSpec();
  // What an earlier, longer boot left: Firecracker writes from offset 0 without truncating.
  writeFileSync(spec.vmmLog, 'OLD-BOOT '.repeat(2000));
  writeFileSync(spec.metricsPath, 'OLD-METRICS '.repeat(2000));
  try {
    const d = driver();
    const { handle } = await boot(d, spec);
    const log = readFileSync(spec.vmmLog, 'utf8');
    assert.match(log, 'Running Firecracker');
    assert.not.match(log, 'OLD-BOOT', "no bytes of the last boot after this boot's lines");
    assert.match(readFileSync(`${spec.vmmLog}.1`, 'utf8'), /^OLD-BOOT/);
    assert.not.match(readFileSync(spec.metricsPath, 'utf8'), 'OLD-METRICS');
    const paths = readFileSync(rec, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).path);
    assert.not.ok(paths.includes('/logger'), 'no PUT /logger next to --log-path');
    await d.stop(handle, { force: true, timeoutMs: 0 });
  } finally {
    restore();
  }
});

test('a bzImage (not an ELF vmlinux) fails at instance-start, as Firecracker does', async () => {
  const spec = makeSpec();
  writeFileSync(spec.kernelPath, Buffer.concat([Buffer.alloc(0x202), Buffer.from('HdrS')]));
  const err = await boot(driver(), spec).then(
    () => null,
    (e: BangerError) => e,
  );
  assert.is(err?.details?.step, 'instance-start');
  assert.match(err!.message, 'Invalid ELF magic number');
  assert.equal(leftovers(spec), []);
});

test('stop: a refused Ctrl-Alt-Del escalates at once instead of waiting out the timeout', async () => {
  const restore = simEnv({ SIM_FAIL: 'send-ctrl-alt-del' });
  try {
    const d = driver();
    const { handle } = await boot(d, makeSpec());
    const t0 = Date.now();
    const exit = await d.stop(handle, { timeoutMs: 20_000 });
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.is(exit.how, 'term');
    assert.not.ok(pidAlive(handle.pid));
  } finally {
    restore();
  }
});

test('a live API socket is never deleted: a second launch on it is refused with E_VMM_ALIVE', async () => {
  const d = driver();
  const spec = makeSpec();
  const { handle } = await boot(d, spec);
  try {
    const again = { ...makeSpec(), socketPath: spec.socketPath };
    const err = await boot(d, again).then(
      () => null,
      (e: BangerError) => e,
    );
    assert.is((err?.cause as BangerError | undefined)?.code ?? err?.code, 'E_VMM_ALIVE', String(err));
    assert.is(err?.details?.step, 'launch-vmm');
    assert.ok(pidAlive(handle.pid), 'the first VMM still runs');
    assert.ok(existsSync(spec.socketPath), 'its socket is still there');
    assert.ok(await d.probe(handle), 'and still answers');
  } finally {
    await d.stop(handle, { force: true, timeoutMs: 0 });
  }
});

test.run();
