import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doctor, hostVirtChecks } from '../../app/engine/doctor.js';
import { readAccelInputs, decideAccel } from '../../app/engine/qemu/accel.js';
import { DEFAULT_CONFIG } from '../../app/engine/config.js';
import { createRunner } from '../../app/base/process.js';
import type { VmDriver } from '../../app/engine/driver/contract.js';

const INTEL = 'processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\ncpu MHz\t\t: 2400.000\n';
const PVM = 'processor\t: 0\nflags\t\t: fpu vme de pse sse2 hypervisor\n';

test('kvm and cpu checks come from the same inputs as the QEMU accel decision', () => {
  const ok = hostVirtChecks({ cpuinfo: INTEL, kvmExists: true, kvmRw: true });
  assert.equal(ok, [
    { name: '/dev/kvm', ok: true, detail: '/dev/kvm is readable and writable' },
    { name: 'cpu virtualization', ok: true, detail: 'CPU has vmx' },
  ]);
  const pvm = hostVirtChecks({ cpuinfo: PVM, kvmExists: true, kvmRw: false });
  assert.is(pvm[0].ok, false);
  assert.is(pvm[0].detail, '/dev/kvm is not read/write for this user');
  assert.is(pvm[1].ok, false);
  assert.match(pvm[1].detail, /neither vmx nor svm/);
  const none = hostVirtChecks({ cpuinfo: '', kvmExists: false, kvmRw: false }, '/dev/kvm-x');
  assert.is(none[0].detail, '/dev/kvm-x does not exist');
  // doctor's verdicts agree with what the QEMU backend would pick
  for (const inputs of [
    { cpuinfo: INTEL, kvmExists: true, kvmRw: true },
    { cpuinfo: PVM, kvmExists: true, kvmRw: true },
  ]) {
    const [kvm, cpu] = hostVirtChecks(inputs);
    assert.is(decideAccel('auto', inputs).accel === 'kvm', kvm.ok && cpu.ok);
  }
});

test('the real files: a /dev/kvm stand-in and a cpuinfo file read through readAccelInputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-doctor-'));
  try {
    const kvm = join(dir, 'kvm');
    const cpuinfo = join(dir, 'cpuinfo');
    writeFileSync(kvm, '');
    writeFileSync(cpuinfo, INTEL.replace('vmx', 'svm'));
    const [k, c] = hostVirtChecks(readAccelInputs(kvm, cpuinfo), kvm);
    assert.ok(k.ok);
    assert.is(c.detail, 'CPU has svm');
    chmodSync(kvm, 0o000);
    // root ignores file modes: only assert the refusal when it can happen
    if (process.getuid?.() !== 0) assert.is(hostVirtChecks(readAccelInputs(kvm, cpuinfo), kvm)[0].ok, false);
    assert.is(
      hostVirtChecks(readAccelInputs(join(dir, 'none'), cpuinfo), join(dir, 'none'))[0].detail,
      `${join(dir, 'none')} does not exist`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor on this host reports the same /dev/kvm and cpu facts as readAccelInputs', async () => {
  const drv = { available: async () => ({ ok: false, reason: 'test backend' }) } as unknown as VmDriver;
  const r = await doctor({
    drivers: new Map([['qemu', drv]]),
    runner: createRunner(),
    config: DEFAULT_CONFIG,
    defaultBackend: async () => 'qemu',
  });
  const expected = hostVirtChecks(readAccelInputs());
  assert.equal(
    r.checks.filter((c) => c.name === '/dev/kvm' || c.name === 'cpu virtualization'),
    expected,
  );
  assert.equal(
    r.checks.find((c) => c.name === 'backend qemu'),
    { name: 'backend qemu', ok: false, detail: 'test backend' },
  );
  assert.is(r.defaultBackend, 'qemu');
});

test.run();
