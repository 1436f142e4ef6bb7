// Will this host's Firecracker load a snapshot? Asked of the binary before a restore touches
// anything, because a failed load ends the VMM and the format changed in 1.7, 1.8, 1.9, 1.11,
// 1.12, 1.13 and 1.15. What the binary can tell (src/firecracker/src/main.rs):
//   --describe-snapshot FILE  since before 1.5: the file's format ("v10.0.0"; up to 1.6 the
//                             Firecracker version that wrote it, "v1.5.0")
//   --snapshot-version        since 1.7: the one format it reads, "v10.0.0"; it loads a file of
//                             the same major and a minor not above its own (snapshot/mod.rs)
//   up to 1.6, describing a file means its data version is in the binary's table of those it
//   reads (versionize); a format it does not know fails to describe
// A binary that can say none of it loads only what its own version wrote.
import type { VmmStamp } from '../../contract/api.js';
import type { ProcessRunner } from '../../base/process.js';
import type { Probe } from '../../base/probe.js';
import type { SnapshotFiles } from '../driver/contract.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

const ASK = { reject: false, timeoutMs: 15_000 } as const;

interface Triple {
  major: number;
  minor: number;
  text: string;
}

function triple(s: string): Triple | null {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(s);
  return m ? { major: Number(m[1]), minor: Number(m[2]), text: `${m[1]}.${m[2]}.${m[3]}` } : null;
}

async function ask(runner: ProcessRunner, argv: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await runner.run(argv, ASK).catch((err: Error) => ({ exitCode: -1, stdout: '', stderr: err.message }));
  return { ok: r.exitCode === 0, out: (r.exitCode === 0 ? r.stdout : r.stderr || r.stdout).trim() };
}

/** What the binary says of itself, remembered per binary (base/probe.ts). */
async function askBinary(probe: Probe, argv: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await probe(argv);
  return { ok: r.exitCode === 0, out: (r.exitCode === 0 ? r.stdout : r.stderr || r.stdout).trim() };
}

/** The state file's format as the binary reads it, or null when it cannot say. */
export async function fcDescribe(runner: ProcessRunner, bin: string, state: string): Promise<string | null> {
  const r = await ask(runner, [bin, '--describe-snapshot', state]);
  return r.ok ? (triple(r.out)?.text ?? null) : null;
}

function incompatible(snap: string, why: string): BangerError {
  return new BangerError(
    ErrorCodes.SNAPSHOT_INCOMPATIBLE,
    `snapshot "${snap}" cannot be loaded by the Firecracker on this host: ${why}; nothing was changed (take a new snapshot with this version)`,
  );
}

/** Throws E_SNAPSHOT_INCOMPATIBLE unless the binary at bin can load files (written under stamp). */
export async function fcCheckLoadable(
  runner: ProcessRunner,
  probe: Probe,
  bin: string,
  files: SnapshotFiles,
  stamp: VmmStamp | null,
  snap: string,
): Promise<void> {
  const version = await askBinary(probe, [bin, '--version']);
  const current = version.ok ? (triple(version.out.split('\n')[0] ?? '')?.text ?? null) : null;
  if (!current) throw incompatible(snap, `${bin} --version did not answer`);
  const wrote = stamp?.version ? ` (written by Firecracker ${stamp.version})` : '';
  const described = await ask(runner, [bin, '--describe-snapshot', files.state]);
  const supported = await askBinary(probe, [bin, '--snapshot-version']);
  if (described.ok && supported.ok) {
    const file = triple(described.out);
    const reads = triple(supported.out);
    if (!file || !reads) throw incompatible(snap, `unreadable format answers "${described.out}" / "${supported.out}"`);
    if (file.major !== reads.major || file.minor > reads.minor)
      throw incompatible(
        snap,
        `its state format is v${file.text}${wrote}, Firecracker ${current} reads v${reads.major}.0-${reads.major}.${reads.minor}`,
      );
    return;
  }
  // 1.5 / 1.6: describing means finding the file's data version in the binary's own table of
  // the versions it reads (FC_VERSION_TO_SNAP_VERSION); an unknown one fails to describe.
  if (described.ok) return;
  // A binary without --describe-snapshot (its parser names the flag): only its own version's files.
  if (/describe-snapshot/.test(described.out) && stamp?.version === current) return;
  throw incompatible(
    snap,
    `Firecracker ${current} cannot read its state file${wrote}: ${described.out.split('\n')[0]}`,
  );
}
