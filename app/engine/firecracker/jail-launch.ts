// The Firecracker driver's jailer side: per VM, the jailer's argv and the chroot's layout; the
// VM's files hard-linked in once the jailer made the chroot; the jail removed after the VMM
// (directly as root, through the entry point's jail-rm as a user), also for jails a dead
// engine left behind (reconcile); and telling a jailed VMM by its root dir's identity.
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { ExtraDrive, LaunchSpec } from '../driver/contract.js';
import { decideJail, jailIdFor, type JailChoice, type JailDecision, type JailInputs } from './jail-mode.js';
import {
  jailerArgv,
  jailLayout,
  prepareJail,
  type JailLayout,
  type JailOptions,
  type JailResources,
} from './jailer.js';

export interface JailedBoot {
  opts: JailOptions;
  layout: JailLayout;
  viaEntry: boolean;
  argv: string[];
}

export class JailSupport {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly inputs: (() => JailInputs) | null,
  ) {}

  decision(): JailDecision {
    return this.inputs ? decideJail(this.inputs()) : { choice: null, reason: 'not configured' };
  }

  /** This VM's jailed boot, or null (no jailer); throws when firecrackerJailer always cannot be met. */
  plan(vmId: string): JailedBoot | null {
    const d = this.decision();
    if (d.missing) throw new BangerError(ErrorCodes.NOT_FOUND, `firecrackerJailer always: ${d.reason}`);
    if (!d.choice) return null;
    const opts = { ...d.choice.opts, id: vmId };
    if (!d.choice.viaEntry) opts.uid = opts.gid = jailIdFor(vmId);
    return { opts, layout: jailLayout(opts), viaEntry: d.choice.viaEntry, argv: jailerArgv(opts) };
  }

  /** The VM's files into the chroot the jailer made; their paths as the jailed VMM sees them. */
  link(j: JailedBoot, spec: LaunchSpec): JailResources & { drives: ExtraDrive[] } {
    const { chrootDir, paths } = prepareJail(j.opts, {
      kernel: spec.kernelPath,
      initrd: spec.initrdPath,
      rootfs: spec.rootfsPath,
      drives: spec.drives ?? [],
      vmmLog: spec.vmmLog,
      metrics: spec.metricsPath,
    });
    if (!j.viaEntry) {
      // A root engine's VMM runs as the VM's own uid: what it writes becomes that uid's.
      for (const p of [paths.rootfs, ...(paths.drives ?? []).map((d) => d.path), paths.vmmLog, paths.metrics])
        lchownSync(join(chrootDir, p), j.opts.uid, j.opts.gid);
      // The kernel and initrd are shared by VMs of different uids and only read: readable by
      // all (as a umask of 022 makes them; a tighter root umask would fail the boot-source call).
      for (const p of [paths.kernel, paths.initrd]) {
        if (!p) continue;
        const st = lstatSync(join(chrootDir, p));
        if (st.isFile() && (st.mode & 0o004) === 0) chmodSync(join(chrootDir, p), (st.mode & 0o7777) | 0o444);
      }
    }
    return { ...paths, drives: paths.drives ?? [] };
  }

  /** The uid this VM's VMM runs as when it is not ours (a root engine's jail), else null. */
  vmmUid(vmId: string): number | null {
    const c = this.decision().choice;
    return c && !c.viaEntry ? jailIdFor(vmId) : null;
  }

  /**
   * The chroot base must exist: the jailer canonicalises it and fails ("Failed to canonicalize
   * path") when it does not. A root engine makes <state>/jail itself (root's, 0700: the VMM
   * never walks it, it is pivoted into its jail); a user's base is made by the entry point's
   * jailer verb. Either way it must be root's and writable by no one else.
   */
  ensureBase(j: JailedBoot): void {
    if (j.viaEntry) return;
    const base = j.opts.chrootBase;
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const st = lstatSync(base);
    const me = process.getuid?.() ?? 0;
    if (!st.isDirectory() || st.uid !== me || (st.mode & 0o022) !== 0)
      throw new BangerError(
        ErrorCodes.UNTRUSTED_PATH,
        `the jailer's chroot base ${base} must be a directory of uid ${me}'s, writable by no one else`,
      );
  }

  /** Remove one jail (links only: the VM's files stay). A user's is root's: the entry point's jail-rm. */
  async remove(choice: JailChoice, vmId: string): Promise<void> {
    const { jailDir } = jailLayout({ ...choice.opts, id: vmId });
    if (!existsSync(jailDir)) return;
    await this.runner.run(['rm', '-rf', '--one-file-system', '--', jailDir], {
      privileged: choice.viaEntry,
      timeoutMs: 60_000,
    });
  }

  /** After the VMM is gone (stop, exit, reconcile): its jail goes. */
  async release(vmId: string): Promise<void> {
    const c = this.decision().choice;
    if (c && this.jails(c).includes(vmId)) await this.remove(c, vmId);
  }

  /** Jails of VMs not running (a dead engine's, a crash mid-boot): removed; their ids returned. */
  async sweep(live: Set<string>): Promise<string[]> {
    const c = this.decision().choice;
    if (!c) return [];
    const gone: string[] = [];
    for (const id of this.jails(c)) {
      if (live.has(id)) continue;
      await this.remove(c, id);
      gone.push(id);
    }
    return gone;
  }

  private jails(c: JailChoice): string[] {
    try {
      return readdirSync(join(c.opts.chrootBase, basename(c.opts.firecrackerBin))).filter((n) =>
        /^[A-Za-z0-9-]{1,64}$/.test(n),
      );
    } catch {
      return [];
    }
  }

  /**
   * Does pid live in one of our jails? The jailer pivots into the chroot in a mount namespace of
   * its own, so from here /proc/PID/root and cwd read "/": a jailed VMM is told by identity,
   * its root dir's st_dev/st_ino against each jail's root dir.
   */
  inJail(pid: number): boolean {
    const c = this.decision().choice;
    if (!c) return false;
    const root = rootIdentity(pid);
    if (!root) return false;
    const byExec = join(c.opts.chrootBase, basename(c.opts.firecrackerBin));
    return this.jails(c).some((id) => sameInode(root, join(byExec, id, 'root')));
  }

  /**
   * The VMM of this jail: the pid the jailer wrote to <chroot>/<exec name>.pid (1.7 and later),
   * kept only when that process is rooted in this very jail; null when there is none (yet).
   */
  jailedPid(j: JailedBoot): number | null {
    const pidFile = join(j.layout.chrootDir, `${basename(j.opts.firecrackerBin)}.pid`);
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim());
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 0) return null;
    const root = rootIdentity(pid);
    return root && sameInode(root, j.layout.chrootDir) ? pid : null;
  }
}

/** st_dev/st_ino of a process's root dir (followed through /proc), or null. */
function rootIdentity(pid: number): { dev: number; ino: number } | null {
  try {
    const st = statSync(`/proc/${pid}/root/`);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null; // gone, or not ours to read
  }
}

function sameInode(id: { dev: number; ino: number }, path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  return !!st && st.dev === id.dev && st.ino === id.ino;
}

export function noJailedSnapshots(): BangerError {
  return new BangerError(
    ErrorCodes.NOT_IMPLEMENTED,
    'snapshots of VMs under the jailer are not supported yet (set firecrackerJailer never for VMs you snapshot)',
  );
}
