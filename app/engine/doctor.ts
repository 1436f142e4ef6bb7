// banger doctor: what this host offers, and which backend VMs get by default and why.
import { accessSync, constants, readFileSync } from 'node:fs';
import type { Backend, DoctorCheck, DoctorReport } from './api.js';
import type { Config } from './config.js';
import type { VmDriver } from './vm/driver.js';
import { which, type ProcessRunner } from './process.js';

export function cpuVirtFlags(cpuinfo: string): string[] {
  const flags = new Set<string>();
  for (const line of cpuinfo.split('\n')) {
    if (!line.startsWith('flags')) continue;
    for (const f of line.split(':')[1]?.trim().split(/\s+/) ?? []) if (f === 'vmx' || f === 'svm') flags.add(f);
  }
  return [...flags];
}

export function kvmAccess(path = '/dev/kvm'): { ok: boolean; detail: string } {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return { ok: true, detail: `${path} is readable and writable` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, detail: code === 'ENOENT' ? `${path} does not exist` : `${path} is not read/write for this user (${code})` };
  }
}

export async function doctor(d: {
  drivers: Map<Backend, VmDriver>; runner: ProcessRunner; config: Config; defaultBackend: () => Promise<Backend>;
}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  for (const [name, drv] of d.drivers) {
    const a = await drv.available();
    checks.push({ name: `backend ${name}`, ok: a.ok, detail: a.reason + (a.version ? ` (${a.version})` : '') });
  }
  const kvm = kvmAccess();
  checks.push({ name: '/dev/kvm', ok: kvm.ok, detail: kvm.detail });
  let cpuinfo = '';
  try { cpuinfo = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* not Linux */ }
  const virt = cpuVirtFlags(cpuinfo);
  checks.push({ name: 'cpu virtualization', ok: virt.length > 0, detail: virt.length ? `CPU has ${virt.join(', ')}` : 'CPU shows neither vmx nor svm: KVM guests will not run; QEMU falls back to software emulation' });
  const tools: [string, string][] = [
    ['ip', 'iproute2: bridge and TAP setup'], ['nft', 'nftables: NAT for guests (iptables is the fallback)'],
    ['mkfs.ext4', 'e2fsprogs: image builds'], ['debugfs', 'e2fsprogs: image inspection'], ['resize2fs', 'e2fsprogs: growing VM disks'],
    ['ssh', 'openssh-client: banger vm ssh'], ['ssh-keygen', 'openssh-client: the managed SSH key'],
    ['apt-get', 'image builds from Debian packages'], ['dpkg-deb', 'unpacking Debian packages'],
  ];
  if (!d.runner.isRoot) tools.push(['sudo', 'privileged network setup when not root']);
  for (const [bin, why] of tools) {
    const p = which(bin);
    checks.push({ name: bin, ok: p !== null, detail: p ? `${p} (${why})` : `not found (${why})` });
  }
  const def = await d.defaultBackend();
  const fcOk = checks.find((c) => c.name === 'backend firecracker')?.ok ?? false;
  const why = d.config.defaultBackend !== 'auto' ? 'set in config'
    : fcOk ? 'the firecracker binary was found'
      : def === 'qemu' ? 'no usable firecracker binary, so QEMU microvm' : 'no backend is available on this host';
  checks.push({ name: 'default backend', ok: true, detail: `${def} (${why})` });
  return { checks, defaultBackend: def };
}
