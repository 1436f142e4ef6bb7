// Reading an untrusted ext4 back into a directory without ever following a symlink.
// `debugfs rdump` recreates symlinks as it goes and later opens paths through them: an image
// with a symlink `x -> /etc/passwd` and then a file also named `x` writes the host's file.
// Here debugfs only lists directories (ls -p) and dumps file contents into a private staging
// dir; the tree is built by us: directories first, files as hard links of the staged copies,
// symlinks last, so nothing is ever written through one. A name that repeats in a directory,
// contains '/', or a directory reached twice means a crafted or corrupt image: refused.
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BangerError, ErrorCodes } from '../../base/errors.js';

/** Run debugfs with a command script on stdin; its stdout. */
export type DebugfsExec = (script: string) => Promise<string>;

interface Entry {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  name: string;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const LS_LINE = /^\/(\d+)\/([0-7]{6})\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/;

function refuse(img: string, why: string): BangerError {
  return new BangerError(ErrorCodes.INVALID_ARGUMENT, `cannot import "${img}": ${why} (a corrupt or crafted image)`);
}

/** `ls -p <ino>` sections of one debugfs run, by directory inode. */
export function parseListing(img: string, out: string): Map<number, Entry[]> {
  const sections = new Map<number, Entry[]>();
  let cur: Entry[] | null = null;
  for (const line of out.split('\n')) {
    const cmd = /^debugfs: ls -p <(\d+)>$/.exec(line);
    if (cmd) {
      cur = [];
      sections.set(Number(cmd[1]), cur);
      continue;
    }
    if (line === '' || cur === null) continue;
    const m = LS_LINE.exec(line);
    if (!m) throw refuse(img, `unreadable directory entry ${JSON.stringify(line.slice(0, 80))}`);
    if (m[1] === '0') continue; // an unused slot (lost+found's preallocated blocks)
    const name = m[5];
    if (name === '' || name.includes('/') || name.includes('\0'))
      throw refuse(img, `bad file name ${JSON.stringify(name.slice(0, 80))}`);
    cur.push({ ino: Number(m[1]), mode: parseInt(m[2], 8), uid: Number(m[3]), gid: Number(m[4]), name });
  }
  return sections;
}

function quote(path: string): string {
  if (/["\n\\]/.test(path)) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `unsupported path ${path}`);
  return `"${path}"`;
}

/** The tree as debugfs lists it, with our directories made (0700 until the end) on the way. */
interface Plan {
  dirs: { path: string; e: Entry }[];
  files: Map<number, { e: Entry; paths: string[] }>;
  links: { path: string; e: Entry }[];
}

function place(img: string, path: string, make: () => void): void {
  try {
    make();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw refuse(img, `"${basename(path)}" appears twice in one directory`);
    throw err;
  }
}

async function walk(exec: DebugfsExec, img: string, dest: string): Promise<Plan> {
  const plan: Plan = { dirs: [], files: new Map(), links: [] };
  const seen = new Set<number>([2]);
  let level = [{ ino: 2, path: dest }];
  while (level.length) {
    const sections = parseListing(img, await exec(level.map((d) => `ls -p <${d.ino}>`).join('\n') + '\n'));
    const next: typeof level = [];
    for (const d of level) {
      const entries = sections.get(d.ino);
      if (!entries?.some((e) => e.name === '.')) throw refuse(img, `directory inode ${d.ino} cannot be read`);
      if (d.ino === 2) plan.dirs.push({ path: dest, e: entries.find((e) => e.name === '.')! });
      for (const e of entries) {
        if (e.name === '.' || e.name === '..') continue;
        const path = join(d.path, e.name);
        const type = e.mode & S_IFMT;
        if (type === S_IFDIR) {
          if (seen.has(e.ino)) throw refuse(img, `directory inode ${e.ino} is reached twice`);
          seen.add(e.ino);
          place(img, path, () => mkdirSync(path, { mode: 0o700 }));
          plan.dirs.push({ path, e });
          next.push({ ino: e.ino, path });
        } else if (type === S_IFREG) {
          const f = plan.files.get(e.ino) ?? { e, paths: [] };
          f.paths.push(path);
          plan.files.set(e.ino, f);
        } else if (type === S_IFLNK) plan.links.push({ path, e });
        // Devices, FIFOs and sockets are skipped, as rdump does.
      }
    }
    level = next;
  }
  return plan;
}

function own(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // Not root: files stay ours (rdump does the same).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/** Extract the whole filesystem of img into dest (an existing empty directory). */
export async function extractExt4Safely(exec: DebugfsExec, img: string, dest: string): Promise<void> {
  const staging = mkdtempSync(join(dirname(dest), '.extract-'));
  try {
    const plan = await walk(exec, img, dest);
    if (plan.files.size) {
      // dump -p keeps mode and owner; hard links of the staged copy keep files that were linked.
      const script = [...plan.files.keys()].map((ino) => `dump -p <${ino}> ${quote(join(staging, `f${ino}`))}`);
      await exec(script.join('\n') + '\n');
      for (const [ino, { e, paths }] of plan.files) {
        const src = join(staging, `f${ino}`);
        if (!existsSync(src)) throw refuse(img, `file "${basename(paths[0])}" cannot be read`);
        // Again after dump's chown, which drops setuid/setgid.
        chmodSync(src, e.mode & 0o7777);
        for (const p of paths) place(img, p, () => linkSync(src, p));
      }
    }
    if (plan.links.length) {
      const dir = join(staging, 'links');
      mkdirSync(dir, { mode: 0o700 });
      // rdump of a single symlink into an empty dir of ours: it only creates the link there.
      await exec(plan.links.map(({ e }) => `rdump <${e.ino}> ${quote(dir)}`).join('\n') + '\n');
      for (const { path, e } of plan.links) {
        let target: string;
        try {
          target = readlinkSync(join(dir, `<${e.ino}>`));
        } catch {
          throw refuse(img, `symlink "${basename(path)}" cannot be read`);
        }
        place(img, path, () => symlinkSync(target, path));
        own(() => lchownSync(path, e.uid, e.gid));
      }
    }
    // Directory owners and modes last, deepest first (a 0555 dir must not block its children).
    for (const { path, e } of [...plan.dirs].reverse()) {
      own(() => chownSync(path, e.uid, e.gid));
      chmodSync(path, e.mode & 0o7777);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
