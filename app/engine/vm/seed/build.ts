// Builds a VM's seed drive: the sections' files plus the guest scripts of assets/guest/seed.d
// (as banger/boot.d/) in a scratch dir, then `mkfs.ext4 -d` as the user (no root, no mount)
// into seed.ext4 beside the VM's disk, replaced atomically. ext4, not iso9660 or vfat: every
// banger kernel has it built in (the Firecracker config has no ISO9660 or VFAT), mkfs.ext4 -d
// needs no extra host tool, and cloud-init's NoCloud finds any filesystem labelled cidata.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageRecord, VmRecord } from '../../../contract/api.js';
import type { ProcessRunner } from '../../../base/process.js';
import { vmPaths, type Paths } from '../../../base/paths.js';
import type { ExtraDrive } from '../../driver/contract.js';
import type { UndoStack } from '../../driver/undo.js';
import { assetPath } from '../../images/assets.js';
import { collectSeedFiles, SECTIONS, type SeedFiles, type SeedSection } from './sections.js';

export const SEED_LABEL = 'cidata';
/** Firecracker's drive_id and QEMU's drive id ([A-Za-z0-9_]). */
export const SEED_DRIVE_ID = 'seed';

export interface SeedPort {
  /**
   * The VM's seed drive for this boot, built now. A restore keeps the file it finds (the
   * snapshot's VMM reopens that path; the guest copied what it needed at its boot) and builds
   * one only when there is none.
   */
  prepare(vm: VmRecord, o: { restore: boolean }, undo: UndoStack): Promise<ExtraDrive>;
}

export interface SeedBuilderDeps {
  runner: ProcessRunner;
  paths: Pick<Paths, 'vmsDir' | 'runtimeDir'>;
  image(name: string): ImageRecord | null;
  sections?: SeedSection[];
  /** The guest scripts (assets/guest/seed.d). */
  scriptsDir?: string;
}

export class SeedBuilder implements SeedPort {
  constructor(private readonly d: SeedBuilderDeps) {}

  async prepare(vm: VmRecord, o: { restore: boolean }, undo: UndoStack): Promise<ExtraDrive> {
    const dest = vmPaths(this.d.paths, vm.id).seed;
    const drive: ExtraDrive = { id: SEED_DRIVE_ID, path: dest, readOnly: true };
    if (o.restore && existsSync(dest)) return drive;
    const image = vm.image ? this.d.image(vm.image) : null;
    const files = collectSeedFiles({ vm, image }, this.d.sections ?? SECTIONS);
    await buildSeed(this.d.runner, files, dest, this.d.scriptsDir ?? assetPath('guest/seed.d'));
    // A failed boot leaves no seed; the next boot builds its own.
    undo.push('remove seed drive', () => rmSync(dest, { force: true }));
    return drive;
  }
}

/** The guest scripts, by name: every NN-name.sh of dir. */
export function bootScripts(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^[0-9]{2}-[a-z0-9-]+\.sh$/.test(n))
    .sort();
}

/** KiB for mkfs: the files' blocks twice over plus room for the metadata, at least 1 MiB. */
export function seedSizeKiB(sizes: number[]): number {
  const blocks = sizes.reduce((n, s) => n + Math.ceil(s / 1024) + 1, 0);
  return Math.max(1024, 512 + 2 * blocks);
}

export async function buildSeed(
  runner: ProcessRunner,
  files: SeedFiles,
  dest: string,
  scriptsDir: string,
): Promise<void> {
  const tree = `${dest}.d`;
  const tmp = `${dest}.tmp`;
  rmSync(tree, { recursive: true, force: true });
  const sizes: number[] = [];
  try {
    mkdirSync(join(tree, 'banger', 'boot.d'), { recursive: true, mode: 0o700 });
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(join(tree, rel)), { recursive: true, mode: 0o700 });
      writeFileSync(join(tree, rel), content, { mode: 0o600 });
      sizes.push(Buffer.byteLength(content));
    }
    for (const s of bootScripts(scriptsDir)) {
      copyFileSync(join(scriptsDir, s), join(tree, 'banger', 'boot.d', s));
      sizes.push(4096);
    }
    // No journal: the guest only reads it. root_owner: the root dir is root's in the guest.
    await runner.run(
      [
        'mkfs.ext4',
        '-q',
        '-F',
        '-L',
        SEED_LABEL,
        '-O',
        '^has_journal',
        '-E',
        'root_owner=0:0',
        '-d',
        tree,
        tmp,
        `${seedSizeKiB(sizes)}k`,
      ],
      { timeoutMs: 60_000 },
    );
    chmodSync(tmp, 0o600); // the user-data may hold secrets
    renameSync(tmp, dest);
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
}
