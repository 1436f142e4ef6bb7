// The seed drive's host side: a registry of sections, each writing some files of the seed from
// the VM record and its image. The seed is a small ext4 labelled `cidata`, rebuilt at every
// boot and attached read-only as the VM's second disk (vdb); see build.ts.
//
// How a feature plugs in (mounts, ocirun, ...):
//  1. Add a section file here exporting a SeedSection whose files() returns its data under
//     `banger/` (e.g. `banger/mounts`), from ctx.vm / ctx.image only (no I/O: it runs at every
//     boot), and append it to SECTIONS below.
//  2. Add its guest script as assets/guest/seed.d/NN-name.sh (reserved: 10-keys, 20-mounts,
//     30-firstboot, 40-run). Every *.sh there is copied to the seed's banger/boot.d/ by the
//     builder, so the guest always runs the engine's own version.
//  3. In the guest, at every boot, assets/guest/seed.sh mounts the seed read-only, copies it to
//     /run/banger/seed (then unmounts: the drive is rebuilt at the next boot), and runs
//     banger/boot.d/*.sh in name order with `sh`, each with SEED=/run/banger/seed in its
//     environment and its output on the console. A failing script is logged and the boot
//     goes on. Scripts run as root, before the ready marker; keep them quick and idempotent.
// The seed's root also holds NoCloud's meta-data and user-data, which cloud-init reads itself.
import type { ImageRecord, VmRecord } from '../../../contract/api.js';
import { cloudInitSection, firstbootSection, keysSection } from './first-boot.js';
import { mountsSection } from './mounts.js';
import { runSection } from './run.js';

export interface SeedContext {
  vm: VmRecord;
  image: ImageRecord | null;
}

/** Files by path relative to the seed's root (`banger/...` for banger's own). */
export type SeedFiles = Record<string, string | Buffer>;

export interface SeedSection {
  name: string;
  files(ctx: SeedContext): SeedFiles;
}

export const SECTIONS: SeedSection[] = [cloudInitSection, keysSection, mountsSection, firstbootSection, runSection];

const SAFE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Every section's files, checked: relative, no "..", no two sections writing one path. */
export function collectSeedFiles(ctx: SeedContext, sections: SeedSection[] = SECTIONS): SeedFiles {
  const out: SeedFiles = {};
  const owner = new Map<string, string>();
  for (const s of sections) {
    for (const [path, content] of Object.entries(s.files(ctx))) {
      if (!SAFE.test(path) || path.split('/').some((c) => c === '.' || c === '..'))
        throw new Error(`seed section ${s.name}: bad path "${path}"`);
      const prior = owner.get(path);
      if (prior) throw new Error(`seed sections ${prior} and ${s.name} both write "${path}"`);
      owner.set(path, s.name);
      out[path] = content;
    }
  }
  return out;
}
