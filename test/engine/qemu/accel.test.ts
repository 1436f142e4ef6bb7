import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMhz, decideAccel, readAccelInputs, tscBootArgs, virtFlag } from '../../../app/engine/qemu/accel.js';

// Shapes of real /proc/cpuinfo files: an Intel host with VT-x, an AMD host, and this build
// machine's kvm_pvm guest (no vmx/svm, but a /dev/kvm).
const intel = `processor\t: 0\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2596.130\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 vmx sse sse2 ht\n\nprocessor\t: 1\ncpu MHz\t\t: 1200.000\nflags\t\t: fpu vmx\n`;
const amd = `processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu MHz\t\t: 3400.5\nflags\t\t: fpu vme svm lm\n`;
const pvm = `processor\t: 0\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2445.402\nflags\t\t: fpu vme de pse tsc msr hypervisor lm avx\n`;
const noMhz = `processor\t: 0\nflags\t\t: fpu\n`;

test('virtFlag finds vmx / svm only as whole flags', () => {
  assert.is(virtFlag(intel), 'vmx');
  assert.is(virtFlag(amd), 'svm');
  assert.is(virtFlag(pvm), null);
  assert.is(virtFlag('flags\t\t: vmxe svmx\n'), null);
  assert.is(virtFlag(''), null);
});

test('cpuMhz reads the first cpu MHz; tsc_early_khz is MHz x 1000, floored', () => {
  assert.is(cpuMhz(intel), 2596.13);
  assert.is(cpuMhz(noMhz), null);
  assert.equal(tscBootArgs(pvm), ['tsc_early_khz=2445402']);
  assert.equal(tscBootArgs(intel), ['tsc_early_khz=2596130']);
  assert.equal(tscBootArgs(noMhz), []);
});

test('auto: KVM needs both a read/write /dev/kvm and vmx/svm', () => {
  const d = decideAccel('auto', { cpuinfo: intel, kvmExists: true, kvmRw: true });
  assert.is(d.accel, 'kvm');
  assert.is(d.cpu, 'host');
  assert.equal(d.bootArgs, []);
  assert.ok(d.usable);
  assert.match(d.reason, /kvm: \/dev\/kvm read\/write, cpu has vmx/);
  assert.is(decideAccel('auto', { cpuinfo: amd, kvmExists: true, kvmRw: true }).accel, 'kvm');
});

test('auto: kvm_pvm host (/dev/kvm but no vmx/svm) falls back to TCG with tsc_early_khz', () => {
  const d = decideAccel('auto', { cpuinfo: pvm, kvmExists: true, kvmRw: true });
  assert.is(d.accel, 'tcg');
  assert.is(d.cpu, 'max');
  assert.equal(d.bootArgs, ['tsc_early_khz=2445402']);
  assert.match(d.reason, /neither vmx nor svm/);
});

test('auto: vmx but /dev/kvm missing or not ours -> TCG, reason says which', () => {
  const missing = decideAccel('auto', { cpuinfo: intel, kvmExists: false, kvmRw: false });
  assert.is(missing.accel, 'tcg');
  assert.match(missing.reason, /\/dev\/kvm missing/);
  const denied = decideAccel('auto', { cpuinfo: intel, kvmExists: true, kvmRw: false });
  assert.is(denied.accel, 'tcg');
  assert.match(denied.reason, /not read\/write/);
});

test('config override: tcg always; kvm honoured when /dev/kvm is usable, unusable otherwise', () => {
  const t = decideAccel('tcg', { cpuinfo: intel, kvmExists: true, kvmRw: true });
  assert.is(t.accel, 'tcg');
  assert.match(t.reason, /forced by config/);
  assert.equal(t.bootArgs, ['tsc_early_khz=2596130']);
  const k = decideAccel('kvm', { cpuinfo: pvm, kvmExists: true, kvmRw: true });
  assert.is(k.accel, 'kvm');
  assert.ok(k.usable);
  assert.match(k.reason, /warning/);
  const bad = decideAccel('kvm', { cpuinfo: intel, kvmExists: false, kvmRw: false });
  assert.is(bad.usable, false);
  assert.match(bad.reason, /qemuAccel=kvm, but \/dev\/kvm missing/);
});

test('readAccelInputs reads real files and access bits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-accel-'));
  try {
    writeFileSync(join(dir, 'cpuinfo'), amd);
    writeFileSync(join(dir, 'kvm'), '');
    const a = readAccelInputs(join(dir, 'kvm'), join(dir, 'cpuinfo'));
    assert.equal(a, { cpuinfo: amd, kvmExists: true, kvmRw: true });
    const none = readAccelInputs(join(dir, 'nokvm'), join(dir, 'nocpuinfo'));
    assert.equal(none, { cpuinfo: '', kvmExists: false, kvmRw: false });
    if (process.getuid?.() !== 0) {
      chmodSync(join(dir, 'kvm'), 0o400);
      assert.is(readAccelInputs(join(dir, 'kvm'), join(dir, 'cpuinfo')).kvmRw, false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
