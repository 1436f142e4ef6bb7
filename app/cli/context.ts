// What a CLI command gets: the engine contract (in-process or over the socket, it cannot
// tell), output streams, and the few host capabilities front ends need (a terminal for ssh).
import type { DoctorReport, EngineApi } from '../contract/api.js';
import type { SshPaths } from './ssh.js';
import type { ProcessRunner } from '../base/process.js';

export interface CliContext {
  engine(): Promise<EngineApi>;
  out(text: string): void;
  err(text: string): void;
  /** Hand the terminal to a program (ssh); resolves with its exit code. */
  interactive(argv: string[]): Promise<number>;
  /** DNS zone for display (NAME.zone). */
  zone: string;
  isTTY: boolean;
  stdin: NodeJS.ReadStream;
  /** Stop the engine service (banger engine stop), if one runs. */
  stopEngine?(opts: { stopVms: boolean; purge: boolean }): Promise<string>;
  /** Where this user's ssh key and per-VM known_hosts live (vm ssh builds its argv from them). */
  paths?: SshPaths;
  /** The host process runner (vm exec and vm cp run ssh and tar through it). */
  processes?(): Promise<ProcessRunner>;
  /** Check the host from this process, without an engine (banger doctor). */
  doctor?(): Promise<DoctorReport>;
  /** Write the DNS setup (banger dns setup --apply). */
  dnsSetup?(mode: 'print' | 'apply' | 'remove'): Promise<string>;
  /** The privileged entry point and its sudoers drop-in (banger setup sudoers). */
  sudoersSetup?(
    mode: 'print' | 'apply' | 'remove',
    user?: string,
    bins?: { firecracker?: string; jailer?: string; jailBase?: string },
  ): Promise<string>;
  /** Run the engine in the foreground (banger engine serve); resolves with the exit code. */
  serveEngine?(): Promise<number>;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}
