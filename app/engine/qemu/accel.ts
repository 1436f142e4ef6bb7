// KVM or TCG? /dev/kvm existing is not enough: on the build machines it is kvm_pvm (no vmx/svm
// in cpuinfo) and stock guest kernels die on it, so auto mode wants both a read/write /dev/kvm
// AND a vmx/svm flag. Pure decision over file contents, plus a small reader for the real host.
import { accessSync, constants, readFileSync } from 'node:fs';

export type AccelMode = 'auto' | 'kvm' | 'tcg';

export interface AccelInputs {
  /** Contents of /proc/cpuinfo ('' when unreadable). */
  cpuinfo: string;
  /** /dev/kvm exists. */
  kvmExists: boolean;
  /** /dev/kvm is readable and writable by us. */
  kvmRw: boolean;
}

export interface AccelDecision {
  accel: 'kvm' | 'tcg';
  /** -cpu value: the host's CPU under KVM, everything TCG can emulate otherwise. */
  cpu: 'host' | 'max';
  /** false when the config forces KVM on a host that cannot give it (doctor reports it). */
  usable: boolean;
  /** One line for `banger doctor` / available(). */
  reason: string;
  /** Extra kernel arguments this accelerator needs (tsc_early_khz under TCG). */
  bootArgs: string[];
}

/** 'vmx' (Intel) or 'svm' (AMD) when the first CPU's flags show hardware virtualisation. */
export function virtFlag(cpuinfo: string): 'vmx' | 'svm' | null {
  const m = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!m) return null;
  const flags = new Set(m[1].trim().split(/\s+/));
  if (flags.has('vmx')) return 'vmx';
  if (flags.has('svm')) return 'svm';
  return null;
}

/** The first "cpu MHz" value, or null. */
export function cpuMhz(cpuinfo: string): number | null {
  const m = /^cpu MHz\s*:\s*([0-9]+(?:\.[0-9]+)?)\s*$/m.exec(cpuinfo);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * Under TCG on microvm the guest hangs at "Marking TSC unstable" unless it is told the TSC
 * frequency up front; the host's cpu MHz is close enough.
 */
export function tscBootArgs(cpuinfo: string): string[] {
  const mhz = cpuMhz(cpuinfo);
  return mhz === null ? [] : [`tsc_early_khz=${Math.floor(mhz * 1000)}`];
}

export function decideAccel(mode: AccelMode, inputs: AccelInputs): AccelDecision {
  const flag = virtFlag(inputs.cpuinfo);
  const kvmState = !inputs.kvmExists
    ? '/dev/kvm missing'
    : inputs.kvmRw
      ? '/dev/kvm read/write'
      : '/dev/kvm not read/write for this user';
  const cpuState = flag ? `cpu has ${flag}` : 'cpu has neither vmx nor svm';
  const tcg = (why: string): AccelDecision => {
    const bootArgs = tscBootArgs(inputs.cpuinfo);
    const tsc = bootArgs.length ? ` (${bootArgs[0]})` : ' (cpu MHz unknown: no tsc_early_khz)';
    return { accel: 'tcg', cpu: 'max', usable: true, reason: `tcg software emulation: ${why}${tsc}`, bootArgs };
  };
  if (mode === 'tcg') return tcg('forced by config qemuAccel=tcg');
  if (mode === 'kvm') {
    if (!inputs.kvmRw) {
      return {
        accel: 'kvm',
        cpu: 'host',
        usable: false,
        reason: `kvm forced by config qemuAccel=kvm, but ${kvmState}`,
        bootArgs: [],
      };
    }
    const warn = flag ? '' : ` (warning: ${cpuState}; stock kernels may fail)`;
    return {
      accel: 'kvm',
      cpu: 'host',
      usable: true,
      reason: `kvm forced by config qemuAccel=kvm: ${kvmState}${warn}`,
      bootArgs: [],
    };
  }
  if (inputs.kvmRw && flag)
    return { accel: 'kvm', cpu: 'host', usable: true, reason: `kvm: ${kvmState}, ${cpuState}`, bootArgs: [] };
  return tcg(`${kvmState}, ${cpuState}`);
}

/** Read the real host's inputs. */
export function readAccelInputs(kvmPath = '/dev/kvm', cpuinfoPath = '/proc/cpuinfo'): AccelInputs {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync(cpuinfoPath, 'utf8');
  } catch {
    /* decide with what we have */
  }
  let kvmExists = false;
  let kvmRw = false;
  try {
    accessSync(kvmPath, constants.F_OK);
    kvmExists = true;
  } catch {
    /* missing */
  }
  if (kvmExists) {
    try {
      accessSync(kvmPath, constants.R_OK | constants.W_OK);
      kvmRw = true;
    } catch {
      /* not ours */
    }
  }
  return { cpuinfo, kvmExists, kvmRw };
}
