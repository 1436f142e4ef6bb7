// Will this host's QEMU load a snapshot? QEMU's migration stream is versioned by the machine
// type, and microvm has no versioned variants (no microvm-7.2): only the QEMU that wrote a
// stream is sure to read it. So a snapshot records the QEMU version and the machine type named
// in the stream's header, and a restore is refused before anything changes when either differs
// (migration/savevm.c: QEVM magic, file version 3, then a configuration section with the name).
import { closeSync, openSync, readSync } from 'node:fs';
import type { VmmStamp } from '../../contract/api.js';
import type { Probe } from '../../base/probe.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

const MAGIC = 0x5145564d; // "QEVM"
const FILE_VERSION = 3;
const SECTION_CONFIGURATION = 0x07;

/** `qemu --version` through the probe (remembered per binary: a restore does not pay a QEMU start). */
export async function qemuVersion(probe: Probe, bin: string): Promise<string | null> {
  const r = await probe([bin, '--version']);
  return r.exitCode === 0 ? (/QEMU emulator version (\S+)/.exec(r.stdout)?.[1] ?? null) : null;
}

/** The machine type a migration stream was written for, or why the header is not one. */
export function streamMachine(path: string): { machine: string } | { error: string } {
  const head = Buffer.alloc(256);
  let n: number;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return { error: `cannot read the state file: ${(err as Error).message}` };
  }
  if (n < 8 || head.readUInt32BE(0) !== MAGIC) return { error: 'the state file is not a QEMU migration stream' };
  if (head.readUInt32BE(4) !== FILE_VERSION) return { error: `stream file version ${head.readUInt32BE(4)}, not 3` };
  if (n < 13 || head[8] !== SECTION_CONFIGURATION) return { error: 'the stream names no machine type' };
  const len = head.readUInt32BE(9);
  if (len === 0 || 13 + len > n) return { error: 'the stream names no machine type' };
  return { machine: head.subarray(13, 13 + len).toString('latin1') };
}

function incompatible(snap: string, why: string): BangerError {
  return new BangerError(
    ErrorCodes.SNAPSHOT_INCOMPATIBLE,
    `snapshot "${snap}" cannot be loaded by the QEMU on this host: ${why}; nothing was changed (take a new snapshot with this version)`,
  );
}

/** Throws E_SNAPSHOT_INCOMPATIBLE unless this QEMU wrote state (same version, a microvm stream). */
export async function qemuCheckLoadable(
  probe: Probe,
  bin: string,
  state: string,
  stamp: VmmStamp | null,
  snap: string,
): Promise<void> {
  const header = streamMachine(state);
  if ('error' in header) throw incompatible(snap, header.error);
  if (!header.machine.startsWith('microvm'))
    throw incompatible(snap, `it is a "${header.machine}" machine, banger runs microvm`);
  const current = await qemuVersion(probe, bin);
  if (!current) throw incompatible(snap, `${bin} --version did not answer`);
  // Taken before versions were recorded: try it (the restore keeps the disk until the load succeeded).
  if (stamp?.version && stamp.version !== current)
    throw incompatible(
      snap,
      `it was written by QEMU ${stamp.version}, this host runs ${current} (microvm is unversioned)`,
    );
}
