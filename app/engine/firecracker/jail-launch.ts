// The Firecracker driver's jailer side: per VM, the jailer's argv and the chroot's layout; the
// VM's files hard-linked in once the jailer made the chroot; the jail removed after the VMM
// (directly as root, through the entry point's jail-rm as a user), also for jails a dead
// engine left behind (reconcile); and telling a jailed VMM by its root or working dir.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { BootStep, LaunchSpec } from '../driver/contract.js';
import type { FirecrackerClient } from './client.js';
import { decideJail, type JailChoice, type JailDecision, type JailInputs } from './jail-mode.js';
import {
  IN_JAIL,
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
    return { opts, layout: jailLayout(opts), viaEntry: d.choice.viaEntry, argv: jailerArgv(opts) };
  }

  /** The VM's files into the chroot the jailer made; their paths as the jailed VMM sees them. */
  link(j: JailedBoot, spec: LaunchSpec): JailResources {
    return prepareJail(j.opts, {
      kernel: spec.kernelPath,
      initrd: spec.initrdPath,
      rootfs: spec.rootfsPath,
      vmmLog: spec.vmmLog,
      metrics: spec.metricsPath,
    }).paths;
  }

  /** After the socket: the VM's files linked in, then the log configured (it was not there at launch). */
  bootSteps(
    j: JailedBoot,
    spec: LaunchSpec,
    client: FirecrackerClient,
    files: { kernel: string; initrd: string | null; rootfs: string; metrics: string },
  ): BootStep[] {
    return [
      {
        name: 'jail-link',
        run: async () => {
          Object.assign(files, this.link(j, spec));
        },
      },
      {
        name: 'logger',
        run: () => client.putLogger({ log_path: IN_JAIL.vmmLog, level: 'Info', show_level: true }),
      },
    ];
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

  /** Does pid live in one of our jails (its root, or for the simulator its working dir)? */
  inJail(pid: number): boolean {
    const c = this.decision().choice;
    if (!c) return false;
    const base = join(c.opts.chrootBase, basename(c.opts.firecrackerBin)) + '/';
    for (const link of ['root', 'cwd']) {
      try {
        if ((realpathSync(`/proc/${pid}/${link}`) + '/').startsWith(base)) return true;
      } catch {
        /* gone or not ours to read */
      }
    }
    return false;
  }
}

export function noJailedSnapshots(): BangerError {
  return new BangerError(
    ErrorCodes.NOT_IMPLEMENTED,
    'snapshots of VMs under the jailer are not supported yet (set firecrackerJailer never for VMs you snapshot)',
  );
}
