import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildQemuArgv, cmdlineOwnedBy, qemuAppend, type QemuArgvInput } from '../../../app/engine/qemu/cmdline.js';
import { BangerError } from '../../../app/base/errors.js';

const base: QemuArgvInput = {
  bin: 'qemu-system-x86_64',
  vmId: 'a1b2c3d4e5f6',
  accel: 'tcg',
  cpu: 'max',
  memoryMib: 256,
  vcpus: 2,
  kernelPath: '/k/vmlinux',
  initrdPath: '/k/initrd.cpio.gz',
  rootfsPath: '/vms/a1/disk.ext4',
  bootArgs: 'console=ttyS0 reboot=k panic=1 pci=off ip=172.30.0.5::172.30.0.1:255.255.255.0:dev:eth0:off',
  accelBootArgs: ['tsc_early_khz=2445402'],
  tap: 'bg-a1b2c3d4e5f6',
  mac: '06:00:AC:1E:00:05',
  socketPath: '/run/vms/a1/qmp.sock',
};

/** The value after a flag (first occurrence), or all values when the flag repeats. */
function vals(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
}

test('argv: machine, accel, cpu, memory, vcpus, console and QMP wiring', () => {
  const a = buildQemuArgv(base);
  assert.is(a[0], 'qemu-system-x86_64');
  assert.equal(vals(a, '-name'), ['banger-a1b2c3d4e5f6']);
  assert.equal(vals(a, '-M'), ['microvm']);
  assert.equal(vals(a, '-accel'), ['tcg']);
  assert.equal(vals(a, '-cpu'), ['max']);
  assert.equal(vals(a, '-m'), ['256']);
  assert.equal(vals(a, '-smp'), ['2']);
  for (const f of ['-nodefaults', '-no-user-config', '-nographic', '-no-reboot']) assert.ok(a.includes(f), f);
  assert.equal(vals(a, '-chardev'), ['stdio,id=ser0,signal=off']);
  assert.equal(vals(a, '-serial'), ['chardev:ser0']);
  assert.equal(vals(a, '-qmp'), ['unix:/run/vms/a1/qmp.sock,server=on,wait=off']);
  assert.equal(vals(a, '-device'), [
    'i8042',
    'virtio-blk-device,drive=root',
    'virtio-net-device,netdev=n0,mac=06:00:ac:1e:00:05',
  ]);
  assert.equal(vals(a, '-kernel'), ['/k/vmlinux']);
  assert.equal(vals(a, '-initrd'), ['/k/initrd.cpio.gz']);
  assert.equal(vals(a, '-drive'), ['id=root,file=/vms/a1/disk.ext4,format=raw,if=none']);
  assert.equal(vals(a, '-netdev'), ['tap,id=n0,ifname=bg-a1b2c3d4e5f6,script=no,downscript=no']);
});

test('argv: kvm + host cpu, acpi=off, no initrd, no NIC', () => {
  const a = buildQemuArgv({
    ...base,
    accel: 'kvm',
    cpu: 'host',
    acpi: false,
    initrdPath: null,
    tap: null,
    accelBootArgs: [],
  });
  assert.equal(vals(a, '-accel'), ['kvm']);
  assert.equal(vals(a, '-cpu'), ['host']);
  assert.equal(vals(a, '-M'), ['microvm,acpi=off']);
  assert.not.ok(a.includes('-initrd'));
  assert.not.ok(a.includes('-netdev'));
  assert.equal(vals(a, '-device'), ['i8042', 'virtio-blk-device,drive=root']);
  assert.not.match(vals(a, '-append')[0], /tsc_early_khz/);
});

test('append: root=/dev/vda rw added (QEMU does not add it), engine args kept in order, tsc last', () => {
  const a = vals(buildQemuArgv(base), '-append')[0];
  assert.is(
    a,
    'root=/dev/vda rw console=ttyS0 reboot=k panic=1 pci=off ip=172.30.0.5::172.30.0.1:255.255.255.0:dev:eth0:off tsc_early_khz=2445402',
  );
});

test('append: a caller-chosen root, console or tsc_early_khz is not overridden', () => {
  assert.is(qemuAppend('root=/dev/vdb ro', []), 'console=ttyS0 root=/dev/vdb ro');
  assert.is(
    qemuAppend('console=hvc0 tsc_early_khz=1000', ['tsc_early_khz=2445402']),
    'root=/dev/vda rw console=hvc0 tsc_early_khz=1000',
  );
  assert.is(qemuAppend('', []), 'console=ttyS0 root=/dev/vda rw');
  // "rootfstype=" is not "root="
  assert.is(qemuAppend('rootfstype=ext4', []), 'console=ttyS0 root=/dev/vda rw rootfstype=ext4');
});

test('bad input: commas in paths, bad TAP/MAC/id/memory are refused with stable codes', () => {
  const bad: [Partial<QemuArgvInput>, string, RegExp][] = [
    [{ rootfsPath: '/x,format=qcow2/disk' }, 'E_INVALID_ARGUMENT', /rootfs path must not contain a comma/],
    [{ socketPath: '/r/q,s.sock' }, 'E_INVALID_ARGUMENT', /QMP socket path/],
    [{ kernelPath: '' }, 'E_INVALID_ARGUMENT', /kernel path is empty/],
    [{ tap: 'tap0,script=/evil' }, 'E_INVALID_ARGUMENT', /invalid TAP name/],
    [{ mac: '06:00:ac:1e:00' }, 'E_INVALID_ARGUMENT', /invalid MAC/],
    [{ vmId: 'x y' }, 'E_INVALID_ARGUMENT', /invalid vm id/],
    [{ memoryMib: 0 }, 'E_INVALID_MEMORY', /invalid memory/],
    [{ vcpus: 1.5 }, 'E_INVALID_VCPUS', /invalid vCPU/],
  ];
  for (const [patch, code, msg] of bad) {
    try {
      buildQemuArgv({ ...base, ...patch });
      assert.unreachable(JSON.stringify(patch));
    } catch (err) {
      assert.instance(err, BangerError);
      assert.is((err as BangerError).code, code);
      assert.match((err as Error).message, msg);
    }
  }
});

test('ownership: /proc cmdline (NUL) and ps (spaces) forms, by name or by QMP socket', () => {
  const argv = buildQemuArgv(base);
  const proc = argv.join('\0') + '\0';
  assert.ok(cmdlineOwnedBy(proc, 'a1b2c3d4e5f6', null));
  assert.ok(cmdlineOwnedBy(argv.join(' '), 'a1b2c3d4e5f6', '/elsewhere.sock'));
  // Another VM's id is not a match, even as a prefix.
  assert.not.ok(cmdlineOwnedBy(proc, 'a1b2c3d4e5f', null));
  assert.not.ok(cmdlineOwnedBy(proc, 'ffffffffffff', null));
  // Matched by socket alone (e.g. a QEMU started with a different -name).
  const bySock = ['qemu-system-x86_64', '-qmp', 'unix:/run/vms/a1/qmp.sock,server=on,wait=off'].join('\0');
  assert.ok(cmdlineOwnedBy(bySock, 'zzz', '/run/vms/a1/qmp.sock'));
  assert.not.ok(cmdlineOwnedBy(bySock, 'zzz', '/run/vms/a1/qmp'));
  // A firecracker process for the same id is not ours.
  assert.not.ok(
    cmdlineOwnedBy(
      'firecracker\0--id\0a1b2c3d4e5f6\0--api-sock\0/run/vms/a1/api.sock',
      'a1b2c3d4e5f6',
      '/run/vms/a1/api.sock',
    ),
  );
});

test.run();
