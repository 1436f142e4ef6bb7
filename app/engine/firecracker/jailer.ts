// Firecracker's jailer (src/jailer, docs/jailer.md): run as root, it canonicalises
// <chroot_base> (which must exist), makes <chroot_base>/<exec_file_name>/<id>/root under the
// umask it inherits, copies the firecracker binary in, joins the netns, sets rlimits (no-file
// 2048) and cgroups, then unshares a mount namespace and pivot_roots into the chroot (so from
// the host /proc/PID/root and cwd read "/"), makes /, /dev, /dev/net, /run 0700 of uid:gid,
// mknods /dev/net/tun, /dev/kvm, /dev/urandom (and /dev/userfaultfd), writes
// /<exec_file_name>.pid (1.7+), drops to uid:gid and execs `/firecracker --id <id> ...` with
// what follows `--`. Everything the API names (kernel, initrd, disk, log and metrics files)
// must already be inside the chroot, under paths as the jailed process sees them, and the API
// socket appears at <chroot_dir>/<api-sock>. This module computes that argv and lays the
// chroot out; it runs nothing itself.
import { existsSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { ExtraDrive } from '../driver/contract.js';

export interface JailOptions {
  jailerBin: string;
  firecrackerBin: string;
  /** The VM id: alphanumerics and hyphens, at most 64 (the jailer's rule). */
  id: string;
  uid: number;
  gid: number;
  /** Must be on the filesystem of the VM's disk: resources are hard-linked in, not copied. */
  chrootBase: string;
  cgroupVersion?: 1 | 2;
  /** The VMs' parent cgroup (the jailer's default is the exec file name). */
  parentCgroup?: string;
  /** A network namespace handle (/var/run/netns/NAME) the jailer joins. */
  netns?: string;
}

export interface JailResources {
  kernel: string;
  initrd: string | null;
  rootfs: string;
  /** Drives after the root disk (the seed): linked in as /<id>.drive. */
  drives?: ExtraDrive[];
  vmmLog: string;
  metrics: string;
}

/** The parent cgroup banger's jailed VMMs are put under (when an admin made it, on cgroup v2). */
export const PARENT_CGROUP = 'banger';

/** Paths as the jailed Firecracker sees them (its root is the chroot dir). */
export const IN_JAIL = {
  socket: '/api.sock',
  kernel: '/vmlinux',
  initrd: '/initrd',
  rootfs: '/rootfs.ext4',
  vmmLog: '/vmm.log',
  metrics: '/metrics.json',
} as const;

export interface JailLayout {
  /** <chroot_base>/<exec_file_name>/<id>: remove it after the VM is gone. */
  jailDir: string;
  /** <jailDir>/root: the jailed process's /. */
  chrootDir: string;
  /** Where the API socket shows up on the host. */
  socketOnHost: string;
}

function check(o: JailOptions): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(o.id))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `jailer id "${o.id}": 1-64 letters, digits and hyphens`);
  const execName = basename(o.firecrackerBin);
  // The jailer refuses an exec file whose name lacks "firecracker".
  if (!execName.includes('firecracker'))
    throw new BangerError(
      ErrorCodes.INVALID_ARGUMENT,
      `the jailer only runs a binary named *firecracker*: ${o.firecrackerBin}`,
    );
  return execName;
}

export function jailLayout(o: JailOptions): JailLayout {
  const jailDir = join(o.chrootBase, check(o), o.id);
  const chrootDir = join(jailDir, 'root');
  return { jailDir, chrootDir, socketOnHost: join(chrootDir, IN_JAIL.socket) };
}

/** jailer ... -- <firecracker args>; the jailer passes --id itself. */
export function jailerArgv(o: JailOptions): string[] {
  check(o);
  return [
    o.jailerBin,
    '--id',
    o.id,
    '--exec-file',
    o.firecrackerBin,
    '--uid',
    String(o.uid),
    '--gid',
    String(o.gid),
    '--chroot-base-dir',
    o.chrootBase,
    '--cgroup-version',
    String(o.cgroupVersion ?? 2),
    '--parent-cgroup',
    o.parentCgroup ?? PARENT_CGROUP,
    ...(o.netns ? ['--netns', o.netns] : []),
    '--',
    '--api-sock',
    IN_JAIL.socket,
  ];
}

/**
 * Hard-link the VM's files into the chroot (a copy of the disk would fork it; a bind mount
 * needs root). Returns the in-jail paths for the API calls.
 */
export function prepareJail(o: JailOptions, r: JailResources): JailLayout & { paths: JailResources } {
  const layout = jailLayout(o);
  mkdirSync(layout.chrootDir, { recursive: true, mode: 0o700 });
  const link = (host: string, inJail: string) => {
    const target = join(layout.chrootDir, inJail);
    rmSync(target, { force: true });
    if (statSync(host).dev !== statSync(layout.chrootDir).dev)
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `${host} is on another filesystem than the jail ${layout.chrootDir}: hard links cannot cross, and a copy would fork the disk (put the chroot base on the VM disks' filesystem: banger setup sudoers --jail-base DIR, or firecrackerJailer never)`,
      );
    linkSync(host, target);
    return inJail;
  };
  const paths: JailResources = {
    kernel: link(r.kernel, IN_JAIL.kernel),
    initrd: r.initrd ? link(r.initrd, IN_JAIL.initrd) : null,
    rootfs: link(r.rootfs, IN_JAIL.rootfs),
    drives: (r.drives ?? []).map((d) => ({ ...d, path: link(d.path, `/${d.id}.drive`) })),
    vmmLog: link(r.vmmLog, IN_JAIL.vmmLog),
    metrics: link(r.metrics, IN_JAIL.metrics),
  };
  return { ...layout, paths };
}

/** After the VM: the jail dir goes (links only; the originals stay). */
export function removeJail(o: JailOptions): void {
  const { jailDir } = jailLayout(o);
  if (existsSync(jailDir)) rmSync(jailDir, { recursive: true, force: true });
}
