// The ssh master `vm exec` and `vm cp` keep per VM (app/cli/exec.ts) dies by itself some 15 s
// after its guest (ServerAlive), and a killed one leaves its socket behind. A VM that stops is
// told to close it at once: a start that follows within those seconds, at the same address,
// would otherwise find a master still answering for the old guest. Delete removes what is left.
import { existsSync, rmSync } from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';
import { sshControlPath } from '../../base/paths.js';

const files = (cp: string) => [cp, `${cp}.session`, `${cp}.lock`, `${cp}.err`];

/** Ask the VM's master (if any) to exit, then remove its socket and lock files. Never throws. */
export async function closeSshMaster(
  runner: ProcessRunner | undefined,
  runtimeDir: string,
  vm: { id: string; ip?: string | null },
): Promise<void> {
  if (!vm.ip) return;
  const cp = sshControlPath(runtimeDir, vm.id, vm.ip);
  if (runner && existsSync(cp))
    await runner
      .run(['ssh', '-o', `ControlPath=${cp}`, '-O', 'exit', 'banger-vm'], { reject: false, timeoutMs: 5000 })
      .catch(() => undefined);
  forgetSshMaster(runtimeDir, vm);
}

/** Remove the VM's master socket and lock files (a master that is gone left them). */
export function forgetSshMaster(runtimeDir: string, vm: { id: string; ip?: string | null }): void {
  if (!vm.ip) return;
  for (const f of files(sshControlPath(runtimeDir, vm.id, vm.ip))) rmSync(f, { force: true });
}
