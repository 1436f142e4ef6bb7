// Will the VMM here load a snapshot? Firecracker's answers per release line, as its main.rs
// gives them (1.7+: --snapshot-version and --describe-snapshot with a data format version;
// 1.5/1.6: --describe-snapshot names the writing version and --version lists the loadable
// ones; without --describe-snapshot only its own version's files), and QEMU's stream header.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessRunner, RunResult } from '../../../app/base/process.js';
import type { Probe } from '../../../app/base/probe.js';
import { fcCheckLoadable } from '../../../app/engine/firecracker/snapshot-compat.js';
import { qemuCheckLoadable, streamMachine } from '../../../app/engine/qemu/snapshot-compat.js';
import { BangerError } from '../../../app/base/errors.js';

type Answers = Record<string, [number, string]>;

/** A binary that answers by its flags (what each release prints; exit 1 + parser error otherwise). */
function binary(answers: Answers): { runner: ProcessRunner; probe: Probe } {
  const answer = (argv: string[]): RunResult => {
    const [code, text] = answers[argv[1]!] ?? [
      153,
      `Arguments parsing error: Found argument '${argv[1]!.slice(2)}' which wasn't expected, or isn't valid in this context.`,
    ];
    return { argv, exitCode: code, stdout: code === 0 ? text : '', stderr: code === 0 ? '' : text };
  };
  const runner = { isRoot: true, run: async (argv: string[]) => answer(argv) } as unknown as ProcessRunner;
  return { runner, probe: async (argv) => answer(argv) };
}

const files = { dir: '/s/snap', state: '/s/snap/vm.state', memory: '/s/snap/mem.bin', disk: '/d', channel: '/c' };
const stamp = (version: string) => ({ backend: 'firecracker' as const, version, format: null });

async function refused(p: Promise<void>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, 'E_SNAPSHOT_INCOMPATIBLE');
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('expected E_SNAPSHOT_INCOMPATIBLE');
}

test('1.7+: same major, minor not above its own', async () => {
  const fc = (file: string) =>
    binary({
      '--version': [0, 'Firecracker v1.16.1\n\n'],
      '--snapshot-version': [0, 'v10.0.0\n'],
      '--describe-snapshot': [0, `v${file}\n`],
    });
  for (const ok of ['10.0.0', '10.0.3']) {
    const b = fc(ok);
    await fcCheckLoadable(b.runner, b.probe, 'fc', files, stamp('1.16.1'), 'snap');
  }
  const newer = fc('10.1.0');
  await refused(fcCheckLoadable(newer.runner, newer.probe, 'fc', files, null, 'snap'), /v10\.1\.0.*reads v10\.0-10\.0/);
  const older = fc('8.0.0');
  await refused(
    fcCheckLoadable(older.runner, older.probe, 'fc', files, stamp('1.12.0'), 'snap'),
    /v8\.0\.0 \(written by Firecracker 1\.12\.0\)/,
  );
});

test('1.5/1.6: a file it can describe is one of the formats it reads', async () => {
  const ok = binary({ '--version': [0, 'Firecracker v1.6.0\n'], '--describe-snapshot': [0, 'v1.5.0\n'] });
  await fcCheckLoadable(ok.runner, ok.probe, 'fc', files, stamp('1.5.0'), 'snap');
  const no = binary({
    '--version': [0, 'Firecracker v1.6.0\n'],
    '--describe-snapshot': [1, 'Cannot translate snapshot data version 9 to Firecracker microVM version'],
  });
  await refused(
    fcCheckLoadable(no.runner, no.probe, 'fc', files, stamp('1.7.0'), 'snap'),
    /cannot read its state file/,
  );
});

test('a file the binary cannot read, or no way to ask: only its own version', async () => {
  const bad = binary({
    '--version': [0, 'Firecracker v1.16.1\n'],
    '--snapshot-version': [0, 'v10.0.0\n'],
    '--describe-snapshot': [1, 'Error: SnapshotVersion(InvalidFormatVersion)'],
  });
  await refused(fcCheckLoadable(bad.runner, bad.probe, 'fc', files, stamp('1.16.1'), 'snap'), /cannot read its state/);
  const mute = binary({ '--version': [0, 'Firecracker v1.4.1\n'] });
  await fcCheckLoadable(mute.runner, mute.probe, 'fc', files, stamp('1.4.1'), 'snap');
  await refused(
    fcCheckLoadable(mute.runner, mute.probe, 'fc', files, stamp('1.4.0'), 'snap'),
    /written by Firecracker 1\.4\.0/,
  );
  const gone = binary({});
  await refused(fcCheckLoadable(gone.runner, gone.probe, 'fc', files, null, 'snap'), /--version did not answer/);
});

/** QEMU's migration stream start: magic, file version 3, the configuration section's machine name. */
function streamHead(machine: string): Buffer {
  const name = Buffer.from(machine);
  const head = Buffer.alloc(13);
  head.writeUInt32BE(0x5145564d, 0);
  head.writeUInt32BE(3, 4);
  head[8] = 0x07;
  head.writeUInt32BE(name.length, 9);
  return Buffer.concat([head, name, Buffer.alloc(64)]);
}

test('QEMU: the stream header names the machine; another QEMU version is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-compat-'));
  try {
    const state = join(dir, 'vm.state');
    writeFileSync(state, streamHead('microvm'));
    assert.equal(streamMachine(state), { machine: 'microvm' });
    const q = binary({ '--version': [0, 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n'] });
    const qs = (version: string) => ({ backend: 'qemu' as const, version, format: 'microvm' });
    await qemuCheckLoadable(q.probe, 'qemu', state, qs('7.2.22'), 's');
    await qemuCheckLoadable(q.probe, 'qemu', state, null, 's'); // taken before versions were kept: tried
    await refused(
      qemuCheckLoadable(q.probe, 'qemu', state, qs('8.2.0'), 's'),
      /written by QEMU 8\.2\.0, this host runs 7\.2\.22/,
    );
    writeFileSync(state, 'not a stream');
    await refused(qemuCheckLoadable(q.probe, 'qemu', state, qs('7.2.22'), 's'), /not a QEMU migration stream/);
    writeFileSync(state, streamHead('pc-q35-7.2'));
    await refused(qemuCheckLoadable(q.probe, 'qemu', state, qs('7.2.22'), 's'), /"pc-q35-7\.2" machine/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
