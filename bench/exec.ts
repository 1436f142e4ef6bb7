// bench/exec.ts (run by bench/exec.sh inside a network namespace, engine started): a 256 MiB
// QEMU guest; per iteration, `bin/banger vm exec NAME -- true` (its master warm) and a direct
// `ssh -i KEY root@IP true` (a full handshake, as a user would type it), alternated so load
// hits both alike; then 100 MiB into the guest by `bin/banger vm cp` and by `ssh ... 'cat >'`.
//
//   node --import tsx bench/exec.ts [--iterations 5]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths } from '../app/base/paths.js';
import { clientSshArgv } from '../app/cli/ssh.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 5) || 5);
const paths = resolvePaths(process.env);
const BIN = join(import.meta.dirname, '..', 'bin', 'banger');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ms for argv to exit 0 (stdin from a file when given). */
function timed(argv: string[], stdinFile?: string): number {
  const fd = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: [fd, 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (typeof fd === 'number') closeSync(fd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function sshReady(direct: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (spawnSync(direct[0], [...direct.slice(1, -1), '-o', 'ConnectTimeout=2', 'true']).status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('ssh not ready within 120 s');
}

async function main(): Promise<void> {
  const e = await ControlClient.connect(paths.controlSocket);
  const dir = mkdtempSync(join(tmpdir(), 'banger-bench-exec-'));
  const name = 'execbench';
  try {
    await e.createVm({ name, backend: 'qemu', memoryMib: 256, start: true });
    const direct = [...(await clientSshArgv(e, paths, name)), 'true'];
    await sshReady(direct);
    const exec = [BIN, 'vm', 'exec', name, '--', 'true'];
    const first = timed(exec); // starts the master
    const viaExec: number[] = [];
    const viaSsh: number[] = [];
    for (let i = 0; i < iterations * 4; i++) {
      viaSsh.push(timed(direct));
      viaExec.push(timed(exec));
    }
    const big = join(dir, 'big');
    spawnSync('dd', ['if=/dev/urandom', `of=${big}`, 'bs=1M', 'count=100', 'status=none']);
    const cat = [...direct.slice(0, -1), 'cat > /root/big.cat'];
    const cpIn = [BIN, 'vm', 'cp', big, `${name}:/root/big.cp`];
    const viaCp: number[] = [];
    const viaCat: number[] = [];
    for (let i = 0; i < Math.max(1, Math.ceil(iterations / 2)); i++) {
      viaCat.push(timed(cat, big));
      viaCp.push(timed(cpIn));
    }
    const mE = median(viaExec);
    const mS = median(viaSsh);
    const mCp = median(viaCp);
    const mCat = median(viaCat);
    console.log(`load ${loadavg()[0].toFixed(2)}, ${viaExec.length} execs, ${viaCp.length} copies`);
    console.log(`first vm exec (starts the master): ${first.toFixed(0)} ms`);
    console.log(`vm exec -- true (warm master): median ${mE.toFixed(0)} ms`);
    console.log(`direct ssh -i KEY root@IP true: median ${mS.toFixed(0)} ms`);
    console.log(`ratio exec/ssh: ${(mE / mS).toFixed(2)} (target: at most 1.00)`);
    console.log(`vm cp 100 MiB in: median ${mCp.toFixed(0)} ms; ssh 'cat >': median ${mCat.toFixed(0)} ms`);
    console.log(`ratio cp/cat: ${(mCp / mCat).toFixed(2)}`);
  } finally {
    await e.removeVm(name, { force: true }).catch(() => {});
    await e.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
