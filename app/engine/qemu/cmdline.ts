// The qemu-system-x86_64 argv for one microvm guest. Pure, so every flag is unit-tested.
// Console contract: the serial port is a stdio chardev, so the guest's console goes to QEMU's
// stdout (the console log file) and keystrokes come from its stdin (the engine's FIFO).
import { BangerError, ErrorCodes } from '../../base/errors.js';

export interface QemuArgvInput {
  bin: string;
  vmId: string;
  accel: 'kvm' | 'tcg';
  cpu: string;
  memoryMib: number;
  vcpus: number;
  kernelPath: string;
  initrdPath: string | null;
  rootfsPath: string;
  /** Block devices after the root disk, in order (the seed drive). */
  drives?: { id: string; path: string; readOnly: boolean }[];
  /** The engine's kernel command line (defaults + ip= + user args). */
  bootArgs: string;
  /** Kernel args the accelerator needs (tsc_early_khz under TCG). */
  accelBootArgs?: string[];
  tap: string | null;
  mac: string;
  /** QMP socket. */
  socketPath: string;
  /** false: -M microvm,acpi=off (tinyconfig kernels without ACPI). Default: QEMU's default. */
  acpi?: boolean;
  /** Wait for a migration stream (QMP migrate-incoming) instead of booting: a snapshot restore. */
  incoming?: boolean;
  /** Shared folders: one vhost-user-fs device per virtiofsd socket, mounted by tag in the guest. */
  shares?: { tag: string; socket: string }[];
}

const TAG = /^m[0-9]{1,2}$/;

/**
 * virtio-fs: guest memory must be shareable with virtiofsd (a memfd backend), and
 * libvhost-user serves only modern virtio, so virtio-mmio leaves its legacy default.
 */
function shareArgs(i: QemuArgvInput): { machine: string[]; devices: string[] } {
  const shares = i.shares ?? [];
  if (!shares.length) return { machine: [], devices: [] };
  const devices = [
    '-object',
    `memory-backend-memfd,id=mem,size=${i.memoryMib}M,share=on`,
    '-global',
    'virtio-mmio.force-legacy=false',
  ];
  shares.forEach((s, n) => {
    if (!TAG.test(s.tag)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: invalid share tag "${s.tag}"`);
    devices.push(
      '-chardev',
      `socket,id=fs${n},path=${noComma('share socket path', s.socket)}`,
      '-device',
      `vhost-user-fs-device,chardev=fs${n},tag=${s.tag}`,
    );
  });
  return { machine: ['memory-backend=mem'], devices };
}

/** The marker reconcile looks for: `-name banger-<vmid>`. */
export function qemuName(vmId: string): string {
  return `banger-${vmId}`;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const VMID = /^[A-Za-z0-9_-]{1,64}$/;
const DRIVE_ID = /^[A-Za-z0-9_]{1,32}$/;

// QEMU splits option values on ",": a comma in a path would inject options. Paths come from
// banger's own dirs, so refuse rather than escape (",," would also break ownsProcess matching).
function noComma(what: string, v: string): string {
  if (v.includes(','))
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: ${what} must not contain a comma: ${v}`);
  if (v === '') throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: ${what} is empty`);
  return v;
}

function hasArg(args: string[], key: string): boolean {
  return args.some((a) => a === key || a.startsWith(key + '='));
}

/**
 * Kernel command line for QEMU. Firecracker adds `root=/dev/vda rw` for its root drive itself;
 * QEMU does not, so it is added here unless the caller already chose a root.
 */
export function qemuAppend(bootArgs: string, accelBootArgs: string[] = []): string {
  const args = bootArgs.trim() === '' ? [] : bootArgs.trim().split(/\s+/);
  const front: string[] = [];
  if (!hasArg(args, 'console')) front.push('console=ttyS0');
  if (!hasArg(args, 'root')) front.push('root=/dev/vda', 'rw');
  const tail = accelBootArgs.filter((a) => !hasArg(args, a.split('=')[0]));
  return [...front, ...args, ...tail].join(' ');
}

export function buildQemuArgv(i: QemuArgvInput): string[] {
  if (!VMID.test(i.vmId)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: invalid vm id "${i.vmId}"`);
  if (!Number.isInteger(i.memoryMib) || i.memoryMib < 1)
    throw new BangerError(ErrorCodes.INVALID_MEMORY, `qemu: invalid memory ${i.memoryMib} MiB`);
  if (!Number.isInteger(i.vcpus) || i.vcpus < 1)
    throw new BangerError(ErrorCodes.INVALID_VCPUS, `qemu: invalid vCPU count ${i.vcpus}`);
  const shares = shareArgs(i);
  const machine = [i.acpi === false ? 'microvm,acpi=off' : 'microvm', ...shares.machine].join(',');
  const argv = [
    i.bin,
    '-name',
    qemuName(i.vmId),
    '-M',
    machine,
    '-accel',
    i.accel,
    '-cpu',
    i.cpu,
    '-m',
    String(i.memoryMib),
    '-smp',
    String(i.vcpus),
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    // The guest's reboot (Ctrl-Alt-Del, `reboot`) ends QEMU, like Firecracker's reboot=k.
    '-no-reboot',
    ...shares.devices,
    // i8042 carries the Ctrl-Alt-Del key chord that QMP send-key injects.
    '-device',
    'i8042',
    // signal=off: a ^C typed into the console goes to the guest, not to QEMU.
    '-chardev',
    'stdio,id=ser0,signal=off',
    '-serial',
    'chardev:ser0',
    '-qmp',
    `unix:${noComma('QMP socket path', i.socketPath)},server=on,wait=off`,
    '-kernel',
    noComma('kernel path', i.kernelPath),
  ];
  if (i.initrdPath) argv.push('-initrd', noComma('initrd path', i.initrdPath));
  argv.push('-append', qemuAppend(i.bootArgs, i.accelBootArgs));
  argv.push(
    '-drive',
    `id=root,file=${noComma('rootfs path', i.rootfsPath)},format=raw,if=none`,
    '-device',
    'virtio-blk-device,drive=root',
  );
  for (const d of i.drives ?? []) {
    if (!DRIVE_ID.test(d.id) || d.id === 'root')
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: invalid drive id "${d.id}"`);
    const ro = d.readOnly ? ',read-only=on' : '';
    argv.push(
      '-drive',
      `id=${d.id},file=${noComma(`${d.id} drive path`, d.path)},format=raw,if=none${ro}`,
      '-device',
      `virtio-blk-device,drive=${d.id}`,
    );
  }
  if (i.tap) {
    if (!IFNAME.test(i.tap)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: invalid TAP name "${i.tap}"`);
    if (!MAC.test(i.mac)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `qemu: invalid MAC "${i.mac}"`);
    argv.push(
      '-netdev',
      `tap,id=n0,ifname=${i.tap},script=no,downscript=no`,
      '-device',
      `virtio-net-device,netdev=n0,mac=${i.mac.toLowerCase()}`,
    );
  }
  if (i.incoming) argv.push('-incoming', 'defer');
  return argv;
}

/** Split a /proc/PID/cmdline (NUL-separated) or a ps line (space-separated) into tokens. */
function tokens(cmdline: string): string[] {
  return cmdline.includes('\0') ? cmdline.split('\0').filter(Boolean) : cmdline.trim().split(/\s+/);
}

/** Does this command line belong to the VM? `-name banger-<id>` or `-qmp unix:<socket>,...`. */
export function cmdlineOwnedBy(cmdline: string, vmId: string, socketPath: string | null): boolean {
  const t = tokens(cmdline);
  const name = qemuName(vmId);
  for (let k = 0; k < t.length - 1; k++) {
    const v = t[k + 1];
    if (
      t[k] === '-name' &&
      (v === name || v.startsWith(name + ',') || v === `guest=${name}` || v.startsWith(`guest=${name},`))
    )
      return true;
    if (socketPath && t[k] === '-qmp' && (v === `unix:${socketPath}` || v.startsWith(`unix:${socketPath},`)))
      return true;
  }
  return false;
}
