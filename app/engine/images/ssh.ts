// banger's managed SSH keypair (authorized in every image); the ssh command line for a VM is
// the contract's (contract/ssh-argv.ts), as the CLI builds it too.
import { existsSync, readFileSync } from 'node:fs';
import type { ProcessRunner } from '../../base/process.js';
import { ensurePrivateDir, type Paths } from '../../base/paths.js';

export interface SshKey {
  keyPath: string;
  publicKey: string;
}

const pending = new Map<string, Promise<SshKey>>();

/** Create the ed25519 key under paths.keysDir on first use; later calls read it. */
export function ensureSshKey(runner: ProcessRunner, paths: Paths): Promise<SshKey> {
  const keyPath = paths.sshKey;
  let p = pending.get(keyPath);
  if (!p) {
    p = (async () => {
      if (!existsSync(keyPath) || !existsSync(`${keyPath}.pub`)) {
        ensurePrivateDir(paths.keysDir);
        await runner.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'banger', '-f', keyPath], {
          input: 'y\n',
        });
      }
      return { keyPath, publicKey: readFileSync(`${keyPath}.pub`, 'utf8').trim() };
    })();
    pending.set(keyPath, p);
    // Only concurrent callers share the promise; later calls look at the files again.
    p.then(
      () => pending.delete(keyPath),
      () => pending.delete(keyPath),
    );
  }
  return p;
}
