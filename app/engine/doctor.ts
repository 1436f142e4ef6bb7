// banger doctor: what this host offers, and which backend VMs get by default and why.
import type { Backend, DoctorCheck, DoctorReport } from '../contract/api.js';
import type { Config } from './config.js';
import type { VmDriver } from './driver/contract.js';
import { which, withSbin, type ProcessRunner } from '../base/process.js';
import { readAccelInputs, virtFlag, type AccelInputs } from './qemu/accel.js';
import { firecrackerLaunchCheck, privilegeCheck, tunCheck } from './doctor-privilege.js';
import type { JailDecision } from './firecracker/jail-mode.js';
import { dnsPortCheck } from './dns-check.js';
import { jailHostChecks, readMounts } from './firecracker/jail-host.js';
import { PARENT_CGROUP } from './firecracker/jailer.js';

/** The /dev/kvm and CPU checks, from the same host facts the QEMU accel decision reads. */
export function hostVirtChecks(inputs: AccelInputs, kvmPath = '/dev/kvm'): DoctorCheck[] {
  const kvmDetail = inputs.kvmRw
    ? `${kvmPath} is readable and writable`
    : inputs.kvmExists
      ? `${kvmPath} is not read/write for this user`
      : `${kvmPath} does not exist`;
  const flag = virtFlag(inputs.cpuinfo);
  return [
    { name: '/dev/kvm', ok: inputs.kvmRw, detail: kvmDetail },
    {
      name: 'cpu virtualization',
      ok: flag !== null,
      detail: flag
        ? `CPU has ${flag}`
        : 'CPU shows neither vmx nor svm: KVM guests will not run; QEMU falls back to software emulation',
    },
  ];
}

export async function doctor(d: {
  drivers: Map<Backend, VmDriver>;
  runner: ProcessRunner;
  config: Config;
  /** The default backend, given whether firecracker answered just now (no second probe). */
  defaultBackend: (firecrackerOk: boolean) => Promise<Backend>;
}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  // Each backend asks its binary: all at once.
  const answers = await Promise.all([...d.drivers].map(async ([name, drv]) => [name, await drv.available()] as const));
  for (const [name, a] of answers)
    checks.push({ name: `backend ${name}`, ok: a.ok, detail: a.reason + (a.version ? ` (${a.version})` : '') });
  checks.push(...hostVirtChecks(readAccelInputs(d.config.kvmPath), d.config.kvmPath));
  const tools: [string, string][] = [
    ['ip', 'iproute2: bridge and TAP setup'],
    ['nft', 'nftables: NAT for guests (iptables is the fallback)'],
    ['mkfs.ext4', 'e2fsprogs: image builds'],
    ['debugfs', 'e2fsprogs: image inspection'],
    ['resize2fs', 'e2fsprogs: growing VM disks'],
    ['ssh', 'openssh-client: banger vm ssh'],
    ['ssh-keygen', 'openssh-client: the managed SSH key'],
    ['apt-get', 'image builds from Debian packages'],
    ['dpkg-deb', 'unpacking Debian packages'],
  ];
  if (!d.runner.isRoot) tools.push(['sudo', 'privileged network setup when not root']);
  for (const [bin, why] of tools) {
    // Where the engine looks (its runner adds the sbin dirs): a Debian user's PATH lacks them.
    const p = which(bin, withSbin());
    checks.push({ name: bin, ok: p !== null, detail: p ? `${p} (${why})` : `not found (${why})` });
  }
  checks.push(await privilegeCheck(d.runner, d.config));
  const fc = d.drivers.get('firecracker') as { jailDecision?: () => JailDecision } | undefined;
  const jail = fc?.jailDecision?.();
  checks.push(firecrackerLaunchCheck(d.runner.isRoot, d.config, process.env, jail));
  if (jail?.choice) checks.push(...jailHostChecks(jail.choice.opts.chrootBase, PARENT_CGROUP, readMounts()));
  if (d.config.network === 'bridge') checks.push(tunCheck(d.runner.isRoot));
  checks.push(dnsPortCheck(d.config));
  const fcOk = answers.some(([name, a]) => name === 'firecracker' && a.ok);
  const def = await d.defaultBackend(fcOk);
  const why =
    d.config.defaultBackend !== 'auto'
      ? 'set in config'
      : fcOk
        ? 'the firecracker binary was found'
        : def === 'qemu'
          ? 'no usable firecracker binary, so QEMU microvm'
          : 'no backend is available on this host';
  checks.push({ name: 'default backend', ok: true, detail: `${def} (${why})` });
  return { checks, defaultBackend: def };
}
