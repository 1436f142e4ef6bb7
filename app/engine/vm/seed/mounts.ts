// The shared-folders section of the seed: banger/mounts, one line per folder,
// "TAG GUESTDIR ro|rw TRANSPORT", read by assets/guest/seed.d/20-mounts.sh at every boot. The
// paths have no spaces (app/contract/mounts.ts refuses them), so the line splits on blanks.
import type { SeedContext, SeedFiles, SeedSection } from './sections.js';

export const mountsSection: SeedSection = {
  name: 'mounts',
  files({ vm }: SeedContext): SeedFiles {
    const mounts = vm.mounts ?? [];
    if (!mounts.length) return {};
    const lines = mounts.map((m) => `${m.tag} ${m.guestDir} ${m.readOnly ? 'ro' : 'rw'} virtiofs`);
    return { 'banger/mounts': lines.join('\n') + '\n' };
  },
};
