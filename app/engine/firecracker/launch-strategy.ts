// The ways of starting a Firecracker VMM, one small strategy each (as firecracker-go-sdk's
// jailer adapts the handler list instead of branching inside each handler): directly as us,
// through sudo or the privileged entry point, or under the jailer. A strategy says where the
// API socket is, the argv, whether the spawn is privileged, how the real VMM pid is found,
// what is prepared before the spawn, and which steps it adds to the boot.
import { realpathSync } from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';
import { which } from '../../base/process.js';
import type { BootStep, ExtraDrive, LaunchSpec } from '../driver/contract.js';
import type { UndoStack } from '../driver/undo.js';
import type { FirecrackerClient } from './client.js';
import type { JailedBoot, JailSupport } from './jail-launch.js';
import { IN_JAIL } from './jailer.js';
import { findVmmByFlags, findVmmUnder } from './launcher.js';

/** What the strategies learn from the spawn. */
export interface SpawnFacts {
  /** The pid we spawned (sudo, the entry point, the jailer or the VMM itself). */
  spawnedPid: number;
  /** The entry point left the VMM running by itself and exits 0 once its socket exists. */
  detached: boolean;
}

/** The VM's files as the configuration calls name them (in-jail paths once jailed). */
export interface VmmFiles {
  kernel: string;
  initrd: string | null;
  rootfs: string;
  /** The drives after the root disk (the seed), their paths in-jail once linked. */
  drives: ExtraDrive[];
  metrics: string;
}

export interface LaunchStrategy {
  readonly name: 'direct' | 'sudo' | 'jailer';
  /** The API socket on the host. */
  readonly socket: string;
  /** The spawn goes through sudo (or the entry point). */
  readonly privileged: boolean;
  /** Root's socket after a sudo launch: handed back to us once it exists. */
  readonly chownSocket: boolean;
  argv(): string[];
  /** Before the spawn (after the stale socket is gone): what this way needs, with its undo. */
  prepare(undo: UndoStack): Promise<void>;
  /** Around the spawn itself (the umask the jailer inherits). */
  spawnWith<T>(spawn: () => T): T;
  /** The real VMM's pid, or null when not found (yet). */
  findVmm(f: SpawnFacts): number | null;
  /** The boot's steps, adapted (the jailer links the VM's files in and configures the log). */
  adapt(steps: BootStep[], client: FirecrackerClient, files: VmmFiles): BootStep[];
  /** Set when this way cannot be had: the launch fails with it before anything changes. */
  readonly refusal?: unknown;
}

/** Firecracker's own flags: the log is configured here, once (a PUT /logger as well fails on 1.4 and older). */
function vmmArgv(bin: string, sock: string, spec: LaunchSpec): string[] {
  return [bin, '--api-sock', sock, '--id', spec.vm.id, '--log-path', spec.vmmLog, '--level', 'Info', '--show-level'];
}

/** As us: the pid we spawned is the VMM. */
export class DirectLaunch implements LaunchStrategy {
  readonly name: LaunchStrategy['name'] = 'direct';
  readonly privileged: boolean = false;
  readonly chownSocket: boolean = false;
  readonly socket: string;
  constructor(
    protected readonly bin: string,
    protected readonly spec: LaunchSpec,
  ) {
    this.socket = spec.socketPath;
  }
  argv(): string[] {
    return vmmArgv(which(this.bin) ?? this.bin, this.socket, this.spec);
  }
  async prepare(): Promise<void> {}
  spawnWith<T>(spawn: () => T): T {
    return spawn();
  }
  findVmm(f: SpawnFacts): number | null {
    return f.spawnedPid;
  }
  adapt(steps: BootStep[]): BootStep[] {
    return steps;
  }
}

/** As root through sudo or the entry point, which runs only the policy's binary by its real path. */
export class SudoLaunch extends DirectLaunch {
  override readonly name = 'sudo';
  override readonly privileged = true;
  override readonly chownSocket = true;
  override argv(): string[] {
    const bin = which(this.bin) ?? this.bin;
    let real = bin;
    try {
      real = realpathSync(bin);
    } catch {
      /* as given */
    }
    return vmmArgv(real, this.socket, this.spec);
  }
  /** Under sudo the VMM is a descendant of sudo's pid; left running by the entry point, found by its flags. */
  override findVmm(f: SpawnFacts): number | null {
    return f.detached ? findVmmByFlags(this.socket, this.spec.vm.id) : findVmmUnder(f.spawnedPid, this.socket);
  }
}

/** Under Firecracker's jailer: directly as root, or through the entry point's jailer verb for a user. */
export class JailerLaunch implements LaunchStrategy {
  readonly name = 'jailer';
  readonly chownSocket = false;
  readonly socket: string;
  readonly privileged: boolean;
  constructor(
    private readonly jail: JailSupport,
    private readonly j: JailedBoot,
    private readonly spec: LaunchSpec,
  ) {
    this.socket = j.layout.socketOnHost;
    this.privileged = j.viaEntry;
  }
  argv(): string[] {
    return this.j.argv;
  }
  async prepare(undo: UndoStack): Promise<void> {
    // A jail a crash left behind would be reused by the jailer: never; and it goes after the VM.
    await this.jail.remove(this.j, this.spec.vm.id);
    this.jail.ensureBase(this.j);
    undo.push('remove jail', () => this.jail.remove(this.j, this.spec.vm.id));
  }
  spawnWith<T>(spawn: () => T): T {
    // The jailer makes <base>/<exec>/<id> under the umask it inherits: never the caller's (077
    // would shut the engine out); the entry point sets its own.
    if (this.j.viaEntry) return spawn();
    const mask = process.umask(0o022);
    try {
      return spawn();
    } finally {
      process.umask(mask);
    }
  }
  /** The pid the jailer wrote, checked against the jail's root (argv names no host path); else by flags. */
  findVmm(f: SpawnFacts): number | null {
    const own = this.jail.jailedPid(this.j);
    if (own !== null) return own;
    if (!this.privileged) return f.spawnedPid; // the jailer exec'd into the VMM: same pid
    return f.detached ? findVmmByFlags(IN_JAIL.socket, this.spec.vm.id) : findVmmUnder(f.spawnedPid, IN_JAIL.socket);
  }
  /** After the socket: the VM's files linked in, then the log configured (it was not there at launch). */
  adapt(steps: BootStep[], client: FirecrackerClient, files: VmmFiles): BootStep[] {
    const at = steps.findIndex((s) => s.name === 'wait-socket') + 1;
    const added: BootStep[] = [
      {
        name: 'jail-link',
        run: async () => {
          Object.assign(files, this.jail.link(this.j, this.spec));
        },
      },
      {
        name: 'logger',
        run: () => client.putLogger({ log_path: IN_JAIL.vmmLog, level: 'Info', show_level: true }),
      },
    ];
    return [...steps.slice(0, at), ...added, ...steps.slice(at)];
  }
}

/** A jail that cannot be had (firecrackerJailer always without a jailer): the launch fails with why. */
export class UnavailableLaunch extends DirectLaunch {
  constructor(
    bin: string,
    spec: LaunchSpec,
    readonly refusal: unknown,
  ) {
    super(bin, spec);
  }
}

/** Which way this VM's VMM starts. */
export function chooseLaunch(
  o: { runner: ProcessRunner; bin: string; viaSudo: boolean; jail: JailSupport },
  spec: LaunchSpec,
): LaunchStrategy {
  let j: JailedBoot | null;
  try {
    j = o.jail.plan(spec.vm.id);
  } catch (err) {
    return new UnavailableLaunch(o.bin, spec, err);
  }
  if (j) return new JailerLaunch(o.jail, j, spec);
  return o.viaSudo ? new SudoLaunch(o.bin, spec) : new DirectLaunch(o.bin, spec);
}
