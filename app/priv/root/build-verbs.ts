// The entry point's image-build verb, for a normal user's `debian:*` build. debootstrap must
// run as root and leaves a root-owned tree; so root does it all in a work dir of its own
// (mkdtemp under /var/tmp, whose sticky bit keeps the user from renaming it away), makes an
// ext4 of the tree there (mkfs.ext4 -d keeps every owner), writes it to the one new file the
// user named inside their banger dirs (created O_EXCL, never through a symlink, then owned by
// them), and removes the work dir, on success and on failure. Only Debian-signed packages are
// installed (the archive keyring is required). The user's engine customizes
// that image as it does an imported one. Installed as root-owned code: node: builtins and
// ./policy.js, ./fd-walk.js only.
import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { refuse, type Policy } from './policy.js';
import { at, closeDir, lstatAt, userDirOf, type HeldDir } from './fd-walk.js';

const SUITE_RE = /^[a-z]{3,20}$/;
const MIRROR_RE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
const PACKAGES_RE = /^[a-z0-9][a-z0-9+.-]{0,62}(,[a-z0-9][a-z0-9+.-]{0,62}){0,40}$/;
const WORK_PREFIX = '/var/tmp/banger-deb-';
/**
 * Maintainer scripts run as root in the tree (a chroot is no boundary for root): only packages
 * Debian signed, whatever mirror the user names. debootstrap checks the Release signature
 * against this keyring (and fails without it) rather than skipping the check.
 */
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const SAFE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const MiB = 1024 * 1024;

export interface DebianBuild {
  suite: string;
  mirror: string;
  include: string;
  /** The user's new file (checked: inside their dirs, not there yet). */
  out: string;
  /** The dir it goes in, held from the check to the hand-back, and its name there. */
  dir: HeldDir;
  name: string;
}

/** `debootstrap-image SUITE MIRROR INCLUDE OUT`: every check before anything is made. */
export function checkDebianBuild(p: Policy, args: string[]): DebianBuild {
  if (args.length !== 4) refuse(`debootstrap-image takes 4 arguments, got ${args.length}`);
  const [suite, mirror, include, out] = args;
  if (!SUITE_RE.test(suite)) refuse(`bad suite "${suite}"`);
  if (!MIRROR_RE.test(mirror)) refuse(`bad mirror "${mirror}" (http or https URL)`);
  if (!PACKAGES_RE.test(include)) refuse(`bad package list "${include}"`);
  if (!lstatSync(DEBIAN_KEYRING, { throwIfNoEntry: false })?.isFile())
    refuse(`${DEBIAN_KEYRING} is missing (apt-get install debian-archive-keyring): packages could not be verified`);
  const { dir, name } = userDirOf(p, out);
  if (lstatAt(dir, name)) {
    closeDir(dir);
    refuse(`${out} already exists`);
  }
  return { suite, mirror, include, out, dir, name };
}

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Run one step, output passed through (the engine reads debootstrap's progress); a cancel stops it. */
function sh(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { PATH: SAFE_PATH, LC_ALL: 'C' },
    });
    let signalled: string | null = null;
    const relay = (sig: NodeJS.Signals) => {
      signalled = sig;
      child.kill(sig);
    };
    for (const sig of FORWARDED) process.on(sig, relay);
    const done = (err: Error | null) => {
      for (const sig of FORWARDED) process.off(sig, relay);
      if (err) reject(err);
      else resolve();
    };
    child.once('error', (e) => done(new Error(`cannot run ${argv[0]}: ${e.message}`)));
    child.once('exit', (code, sig) => {
      if (signalled) done(new Error(`cancelled (${signalled})`));
      else done(code === 0 ? null : new Error(`${argv[0]} failed (${sig ?? `exit ${code}`})`));
    });
  });
}

function treeBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += lstatSync(join(e.parentPath, e.name)).size;
  }
  return n;
}

/** Copy src into a new file of the user's (sparse: zero blocks are skipped), in the dir held since the check. */
function handBack(p: Policy, src: string, b: DebianBuild): void {
  // O_CREAT|O_EXCL|O_NOFOLLOW in exactly the checked dir: never an existing file or symlink.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const to = openSync(at(b.dir.fd, b.name), flags, 0o600);
  const from = openSync(src, 'r');
  try {
    fchownSync(to, p.uid, p.gid);
    const buf = Buffer.alloc(MiB);
    const zero = Buffer.alloc(MiB);
    for (let off = 0, n = 1; n > 0; off += n) {
      n = readSync(from, buf, 0, buf.length, off);
      if (!buf.subarray(0, n).equals(zero.subarray(0, n))) writeSync(to, buf, 0, n, off);
    }
    ftruncateSync(to, fstatSync(from).size); // a zero tail still counts
  } finally {
    closeSync(from);
    closeSync(to);
  }
}

export function planDebianBuild(p: Policy, args: string[]): { run: () => Promise<void>; what: string } {
  const b = checkDebianBuild(p, args);
  return {
    what: `debootstrap ${b.suite} -> ${b.out}`,
    run: async () => {
      const work = mkdtempSync(`${WORK_PREFIX}${p.user}-`);
      try {
        const tree = join(work, 'rootfs');
        await sh([
          'debootstrap',
          `--keyring=${DEBIAN_KEYRING}`,
          '--variant=minbase',
          `--include=${b.include}`,
          b.suite,
          tree,
          b.mirror,
        ]);
        // Downloaded .debs are dead weight in a VM image (apt keeps its directories).
        const archives = join(tree, 'var/cache/apt/archives');
        for (const f of readdirSync(archives)) if (f.endsWith('.deb')) rmSync(join(archives, f), { force: true });
        const size = Math.ceil((treeBytes(tree) * 1.25 + 64 * MiB) / MiB);
        const img = join(work, 'image.ext4');
        await sh(['mkfs.ext4', '-q', '-F', '-E', 'root_owner=0:0', '-d', tree, img, `${size}M`]);
        handBack(p, img, b);
      } finally {
        closeDir(b.dir);
        // On success, failure and cancel alike: nothing of the build stays as root's. Never
        // across a mount (a debootstrap stopped mid-way can leave /proc mounted in the tree).
        await sh(['rm', '-rf', '--one-file-system', '--', work]).catch(() =>
          rmSync(work, { recursive: true, force: true }),
        );
      }
    },
  };
}
