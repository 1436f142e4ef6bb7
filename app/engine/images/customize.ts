// What makes a root filesystem work under banger, shared by build and import (busybox and
// busybox init added to a tree without systemd, see inject-init.ts): a serial
// shell/getty on ttyS0, Ctrl-Alt-Del -> reboot, hostname/address/DNS from the kernel command
// line, banger's SSH key for root, an SSH server, the seed drive's hook, and the BANGER_READY
// marker on the console.
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from './assets.js';
import { copyInRoot, dirInRoot, existsInRoot, fileInRoot, symlinkInRoot, writeInRoot } from './rootfs-path.js';
import { installDropbear } from './busybox-rootfs.js';
import { ensureAccounts, ensureBusybox, ensureBusyboxInit } from './inject-init.js';
import type { DebCache } from './debs.js';
import type { BuildJob } from './job.js';

export type InitFlavor = 'busybox' | 'systemd';

/** systemd where the image has it, else banger's busybox init (busybox added when missing). */
export function detectFlavor(root: string): InitFlavor {
  if (existsInRoot(root, 'lib/systemd/systemd') || existsInRoot(root, 'usr/lib/systemd/systemd')) return 'systemd';
  return 'busybox';
}

export interface CustomizeOptions {
  publicKey: string;
  hostname: string;
  debs: DebCache;
  work: string;
}

export async function customizeRootfs(root: string, o: CustomizeOptions, job: BuildJob): Promise<InitFlavor> {
  const flavor = detectFlavor(root);
  job.log(`customizing a ${flavor} root filesystem\n`);
  copyInRoot(root, 'etc/banger/net.sh', assetPath('guest/net.sh'), 0o755);
  copyInRoot(root, 'etc/banger/ready.sh', assetPath('guest/ready.sh'), 0o755);
  // The seed drive's hook (its scripts come on the seed itself, always the engine's version).
  copyInRoot(root, 'etc/banger/seed.sh', assetPath('guest/seed.sh'), 0o755);
  writeInRoot(root, 'etc/hostname', `${o.hostname}\n`);
  authorizeKey(root, o.publicKey);
  if (flavor === 'busybox') await customizeBusybox(root, o, job);
  else customizeSystemd(root, job);
  return flavor;
}

/** root's authorized_keys holds banger's key (added once; existing keys are kept). */
function authorizeKey(root: string, publicKey: string): void {
  const key = publicKey.trim();
  chmodSync(dirInRoot(root, 'root'), 0o700);
  chmodSync(dirInRoot(root, 'root/.ssh'), 0o700);
  const file = fileInRoot(root, 'root/.ssh/authorized_keys');
  let existing = '';
  try {
    existing = readFileSync(file, 'utf8');
  } catch {
    /* new */
  }
  const lines = existing.split('\n').filter((l) => l.trim());
  if (!lines.includes(key)) lines.push(key);
  writeInRoot(root, 'root/.ssh/authorized_keys', lines.join('\n') + '\n', 0o600);
}

async function customizeBusybox(root: string, o: CustomizeOptions, job: BuildJob): Promise<void> {
  const busybox = await ensureBusybox(root, o.debs, o.work, job);
  ensureBusyboxInit(root, busybox, job);
  copyInRoot(root, 'etc/inittab', assetPath('guest/busybox/inittab'));
  copyInRoot(root, 'etc/init.d/rcS', assetPath('guest/busybox/rcS'), 0o755);
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'run', 'etc/dropbear']) dirInRoot(root, d);
  ensureAccounts(root);
  // Static glibc resolves names itself (files, then dns): these make localhost and the
  // VM's own name (added at boot by net.sh) resolve without a server.
  if (!existsInRoot(root, 'etc/hosts')) writeInRoot(root, 'etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  if (!existsInRoot(root, 'etc/nsswitch.conf')) writeInRoot(root, 'etc/nsswitch.conf', 'hosts: files dns\n');
  if (!existsInRoot(root, 'usr/sbin/dropbear')) await installDropbear(root, o.debs, o.work, job);
}

function customizeSystemd(root: string, job: BuildJob): void {
  const sys = 'etc/systemd/system';
  const lib = existsInRoot(root, 'lib/systemd/system') ? '/lib/systemd/system' : '/usr/lib/systemd/system';
  for (const unit of ['banger-net.service', 'banger-sshkeys.service', 'banger-seed.service', 'banger-ready.service']) {
    copyInRoot(root, `${sys}/${unit}`, assetPath(`guest/systemd/${unit}`));
    symlinkInRoot(root, `${sys}/multi-user.target.wants/${unit}`, `/${sys}/${unit}`);
  }
  // Serial console: a getty on ttyS0 that logs root in (the console is the host user's).
  symlinkInRoot(root, `${sys}/getty.target.wants/serial-getty@ttyS0.service`, `${lib}/serial-getty@.service`);
  copyInRoot(
    root,
    `${sys}/serial-getty@ttyS0.service.d/autologin.conf`,
    assetPath('guest/systemd/serial-autologin.conf'),
  );
  // Ctrl-Alt-Del (Firecracker's SendCtrlAltDel, QEMU's send-key) reboots, which ends the VM.
  symlinkInRoot(root, `${sys}/ctrl-alt-del.target`, `${lib}/reboot.target`);
  if (existsInRoot(root, `${lib.slice(1)}/ssh.service`)) {
    symlinkInRoot(root, `${sys}/multi-user.target.wants/ssh.service`, `${lib}/ssh.service`);
    symlinkInRoot(root, `${sys}/sshd.service`, `${lib}/ssh.service`);
  } else {
    job.log('warning: no ssh.service in this image (install openssh-server): banger vm ssh will not work\n');
  }
  // Host keys made by the package's postinst would be shared by every VM of this image.
  if (existsInRoot(root, 'etc/ssh')) {
    const sshDir = dirInRoot(root, 'etc/ssh');
    for (const f of readdirSync(sshDir)) {
      if (/^ssh_host_.*key(\.pub)?$/.test(f)) rmSync(join(sshDir, f), { force: true });
    }
  }
  // The hostname comes from ip= at boot; a machine-id per VM is made at first boot when empty.
  writeInRoot(root, 'etc/machine-id', '');
}
