// Owners, device nodes, fifos and xattrs written into the finished ext4 with debugfs: mkfs -d ran
// in a user namespace as root (ext4.ts), so every inode is root's; the few entries a layer gave
// to someone else, or that the user could not create (mknod), are set here on the image file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildJob } from '../job.js';
import type { EntryMeta } from './layers.js';

/** The debugfs script (one command a line) and the xattr value files it reads. */
export function fixupScript(meta: Map<string, EntryMeta>, valueDir: string): { script: string; skipped: string[] } {
  const lines: string[] = [];
  const skipped: string[] = [];
  let n = 0;
  for (const [rel, m] of meta) {
    // debugfs splits on blanks and reads "..." as one word; a quote or newline cannot be said.
    if (/["\n\r\\]/.test(rel)) {
      skipped.push(rel);
      continue;
    }
    const p = `"/${rel}"`;
    if (m.node) {
      // mknod takes a name in the current directory, not a path.
      const slash = rel.lastIndexOf('/');
      const name = `"${rel.slice(slash + 1)}"`;
      lines.push(`rm ${p}`, `cd "/${rel.slice(0, Math.max(0, slash))}"`);
      lines.push(
        m.node.kind === 'p' ? `mknod ${name} p` : `mknod ${name} ${m.node.kind} ${m.node.major} ${m.node.minor}`,
      );
      lines.push('cd /');
      lines.push(`sif ${p} mode 0${m.mode.toString(8)}`);
    }
    if (m.uid || m.node) lines.push(`sif ${p} uid ${m.uid}`);
    if (m.gid || m.node) lines.push(`sif ${p} gid ${m.gid}`);
    for (const [name, value] of Object.entries(m.xattrs ?? {})) {
      if (/["\s\\]/.test(name)) continue;
      const f = join(valueDir, `x${n++}`);
      writeFileSync(f, value);
      lines.push(`ea_set -f ${f} ${p} ${name}`);
    }
  }
  return { script: lines.length ? lines.join('\n') + '\n' : '', skipped };
}

export async function applyFixups(
  job: BuildJob,
  img: string,
  meta: Map<string, EntryMeta>,
  valueDir: string,
): Promise<void> {
  const { script, skipped } = fixupScript(meta, valueDir);
  for (const s of skipped) job.log(`warning: owner/device of ${JSON.stringify(s)} not kept (unquotable path)\n`);
  if (!script) return;
  job.log(`setting ${meta.size} owners/devices/xattrs with debugfs\n`);
  const r = await job.run(['debugfs', '-w', '-f', '-', img], { input: script, timeoutMs: 20 * 60_000, quiet: true });
  // debugfs goes on after a failed command and exits 0: its complaints say which one failed.
  const errors = r.stderr.split('\n').filter((l) => l.trim() && !/^debugfs \d/.test(l));
  if (errors.length) throw new Error(`debugfs could not set owners/devices: ${errors.slice(0, 3).join('; ')}`);
}
