// bench/cp.ts (run by bench/cp.sh inside a network namespace, engine started): a 256 MiB QEMU
// busybox guest given an SFTP server; per round, 100 MiB of random bytes into the guest by
// `scp` and by `bin/banger vm cp`, then back out by each, alternated so load hits both alike.
// scp runs with banger's key and the VM's known_hosts (the argv `vm ssh` uses), a full
// handshake per copy as a user would type it; vm cp's ssh master is warmed first (its cold
// first copy is printed apart). Checksums are compared after every copy.
//
//   node --import tsx bench/cp.ts [--iterations 3]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths } from '../app/base/paths.js';
import { clientSshArgv } from '../app/cli/ssh.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const paths = resolvePaths(process.env);
const BIN = join(import.meta.dirname, '..', 'bin', 'banger');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function timed(argv: string[]): number {
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function must(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

async function sshReady(ssh: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (spawnSync(ssh[0], [...ssh.slice(1, -1), '-o', 'ConnectTimeout=2', ssh.at(-1)!, 'true']).status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('ssh not ready within 120 s');
}

/** Debian's sftp-server (libc only) where dropbear looks for one. */
function giveSftp(dir: string, name: string): void {
  const deb = process.env.BANGER_BENCH_SFTP_DEB;
  if (!deb) throw new Error('BANGER_BENCH_SFTP_DEB is not set: run bench/cp.sh');
  must(['dpkg-deb', '-x', deb, join(dir, 'sftp')]);
  must([BIN, 'vm', 'cp', join(dir, 'sftp', 'usr', 'lib', 'openssh', 'sftp-server'), `${name}:/usr/lib/sftp-server`]);
}

async function main(): Promise<void> {
  const e = await ControlClient.connect(paths.controlSocket);
  const dir = mkdtempSync(join(tmpdir(), 'banger-bench-cp-'));
  const name = 'cpbench';
  try {
    await e.createVm({ name, backend: 'qemu', memoryMib: 256, start: true });
    const ssh = await clientSshArgv(e, paths, name);
    await sshReady(ssh);
    const host = ssh.at(-1)!;
    const scp = ['scp', '-q', ...ssh.slice(1, -1)];
    const big = join(dir, 'big');
    must(['dd', 'if=/dev/urandom', `of=${big}`, 'bs=1M', 'count=100', 'status=none']);
    const want = sha(big);
    const cold = timed([BIN, 'vm', 'cp', big, `${name}:/root/cold`]); // starts the master
    giveSftp(dir, name);
    const r = { scpIn: [] as number[], cpIn: [] as number[], scpOut: [] as number[], cpOut: [] as number[] };
    const back = (f: string) => {
      if (sha(join(dir, f)) !== want) throw new Error(`${f}: checksum differs`);
    };
    for (let i = 0; i < iterations; i++) {
      r.scpIn.push(timed([...scp, big, `${host}:/root/big.scp`]));
      r.cpIn.push(timed([BIN, 'vm', 'cp', big, `${name}:/root/big.cp`]));
      r.scpOut.push(timed([...scp, `${host}:/root/big.scp`, join(dir, 'out.scp')]));
      r.cpOut.push(timed([BIN, 'vm', 'cp', `${name}:/root/big.cp`, join(dir, 'out.cp')]));
      back('out.scp');
      back('out.cp');
    }
    const sums = must([BIN, 'vm', 'exec', name, '--', 'sha256sum', '/root/big.scp', '/root/big.cp']);
    if (sums.split('\n').filter((l) => l.startsWith(want)).length !== 2) throw new Error(`guest sums: ${sums}`);
    const [si, ci, so, co] = [r.scpIn, r.cpIn, r.scpOut, r.cpOut].map(median);
    console.log(`load ${loadavg()[0].toFixed(2)}, ${iterations} rounds of 100 MiB each way, checksums equal`);
    console.log(`first vm cp in (starts the ssh master): ${cold.toFixed(0)} ms`);
    console.log(
      `in:  vm cp median ${ci.toFixed(0)} ms; scp median ${si.toFixed(0)} ms; ratio cp/scp ${(ci / si).toFixed(2)}`,
    );
    console.log(
      `out: vm cp median ${co.toFixed(0)} ms; scp median ${so.toFixed(0)} ms; ratio cp/scp ${(co / so).toFixed(2)}`,
    );
  } finally {
    await e.removeVm(name, { force: true }).catch(() => {});
    await e.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
