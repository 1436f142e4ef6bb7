// banger vm cp: a tar stream over the VM's ssh master (the busybox guest has no scp or sftp
// server; tar also keeps modes). Into the guest, the tree lands in a temp dir next to its
// target and is renamed into place on success; out of it, the same on this host. Either way
// a failed copy leaves nothing half-written under the target's name.
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ProcessRunner } from '../base/process.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import { shellQuote, type ExecTarget } from './exec.js';

export interface CpPlan {
  vm: string;
  /** 'in': host to guest; 'out': guest to host. */
  direction: 'in' | 'out';
  remote: string;
  /** A host path, or '-' for a tar stream on stdin/stdout. */
  local: string;
}

const REMOTE = /^([a-z][a-z0-9-]*):(.+)$/;
/** Exit codes the guest-side scripts use for what the user must fix. */
const E_MISSING = 90;
const E_IS_DIR = 91;

export function parseCpArgs(src: string, dst: string): CpPlan {
  const s = REMOTE.exec(src);
  const d = REMOTE.exec(dst);
  if (s && d) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'both sides are in a VM: one must be a host path');
  if (!s && !d) throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'neither side is in a VM: write one as NAME:PATH');
  if (s && src === '-') throw new BangerError(ErrorCodes.INVALID_ARGUMENT, '"-" cannot be read from a VM');
  const plan: CpPlan = s
    ? { vm: s[1], direction: 'out', remote: s[2], local: dst }
    : { vm: d![1], direction: 'in', remote: d![2], local: src };
  if (plan.direction === 'in' && plan.local !== '-' && !existsSync(plan.local))
    throw new BangerError(ErrorCodes.NOT_FOUND, `no such file or directory: ${plan.local}`);
  return plan;
}

export interface CpResult {
  vm: string;
  direction: 'in' | 'out';
  source: string;
  target: string;
}

export async function copy(t: ExecTarget, runner: ProcessRunner, p: CpPlan, o: { recursive: boolean }) {
  if (p.direction === 'in') return copyIn(t, runner, p, o);
  return copyOut(t, runner, p, o);
}

// $1 target, $2 the name inside the tar ('' for a stream: extract into $1, a directory; '.' for
// a directory's contents, Docker's SRC/.: into $1, made when missing).
const IN_SCRIPT = `set -e
dst=$1; base=$2
case $dst in */) [ -d "$dst" ] || { echo "no such directory in the guest: $dst" >&2; exit ${E_MISSING}; } ;; esac
if [ -z "$base" ]; then
  [ -d "$dst" ] || { echo "not a directory in the guest: $dst" >&2; exit ${E_MISSING}; }
  exec tar -x -f - -C "$dst"
fi
if [ -d "$dst" ]; then parent=$dst; name=$base; else parent=$(dirname "$dst"); name=$(basename "$dst"); fi
[ -d "$parent" ] || { echo "no such directory in the guest: $parent" >&2; exit ${E_MISSING}; }
tmp=$(mktemp -d "$parent/.banger-cp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -x -f - -C "$tmp"
from="$tmp/$base"; [ "$base" != . ] || from=$tmp
if [ -d "$from" ] && [ -d "$parent/$name" ]; then cp -a "$from/." "$parent/$name/"
else mv -f "$from" "$parent/$name"; fi`;

// $1 source, $2 'r' when directories may go, $3 'c' for a directory's contents (NAME:DIR/.).
const OUT_SCRIPT = `set -e
src=$1
[ -e "$src" ] || [ -L "$src" ] || { echo "no such file or directory in the guest: $src" >&2; exit ${E_MISSING}; }
if [ -d "$src" ] && [ "$2" != r ]; then echo "$src is a directory in the guest (use -r)" >&2; exit ${E_IS_DIR}; fi
if [ "$3" = c ]; then
  [ -d "$src" ] || { echo "not a directory in the guest: $src" >&2; exit ${E_MISSING}; }
  cd "$src"; exec tar -c -f - .
fi
cd "$(dirname "$src")"
exec tar -c -f - "$(basename "$src")"`;

/** Docker's SRC/. (and "."): the directory's contents, not the directory. */
export function isContents(path: string): boolean {
  return /(^|\/)\.$/.test(path);
}

async function copyIn(t: ExecTarget, runner: ProcessRunner, p: CpPlan, o: { recursive: boolean }): Promise<CpResult> {
  let base = '';
  let source: Readable | 'inherit' = 'inherit';
  let tar: ReturnType<ProcessRunner['spawn']> | null = null;
  if (p.local !== '-') {
    const abs = resolve(p.local);
    if (statSync(abs).isDirectory() && !o.recursive)
      throw new BangerError(ErrorCodes.INVALID_ARGUMENT, `${p.local} is a directory (use -r)`);
    base = isContents(p.local) ? '.' : basename(abs);
    // Owned by root in the guest (the user we log in as), whoever owns it here.
    tar = runner.spawn(
      [
        'tar',
        '-c',
        '-f',
        '-',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '-C',
        base === '.' ? abs : dirname(abs),
        base,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: false,
      },
    );
    source = tar.child.stdout!;
  }
  const words = ['sh', '-c', IN_SCRIPT, 'banger-cp', p.remote, base];
  const [ssh, local] = await Promise.all([remote(t, runner, words, source, 'ignore'), tar ? finished(tar) : null]);
  check(p, ssh);
  if (local && local.code !== 0) throw new BangerError(ErrorCodes.COMMAND_FAILED, `tar failed here: ${local.stderr}`);
  return { vm: p.vm, direction: 'in', source: p.local, target: `${p.vm}:${p.remote}` };
}

async function copyOut(t: ExecTarget, runner: ProcessRunner, p: CpPlan, o: { recursive: boolean }): Promise<CpResult> {
  const contents = isContents(p.remote) ? 'c' : '';
  const words = ['sh', '-c', OUT_SCRIPT, 'banger-cp', p.remote, o.recursive || p.local === '-' ? 'r' : '', contents];
  if (p.local === '-') {
    check(p, await remote(t, runner, words, 'ignore', 'inherit'));
    return { vm: p.vm, direction: 'out', source: `${p.vm}:${p.remote}`, target: '-' };
  }
  const name = contents ? '.' : posix.basename(p.remote);
  const local = resolve(p.local);
  if (/\/$/.test(p.local) && !(existsSync(local) && statSync(local).isDirectory()))
    throw new BangerError(ErrorCodes.NOT_FOUND, `no such directory: ${p.local}`);
  const into = existsSync(local) && statSync(local).isDirectory();
  const parent = into ? local : dirname(local);
  const target = into ? join(local, name) : local;
  if (!existsSync(parent) || !statSync(parent).isDirectory())
    throw new BangerError(ErrorCodes.NOT_FOUND, `no such directory: ${parent}`);
  const tmp = mkdtempSync(join(parent, '.banger-cp.'));
  try {
    const tar = runner.spawn(['tar', '-x', '-p', '--no-same-owner', '-f', '-', '-C', tmp], {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: false,
    });
    const [ssh, untar] = await Promise.all([remote(t, runner, words, 'ignore', tar.child.stdin!), finished(tar)]);
    check(p, ssh);
    if (untar.code !== 0) throw new BangerError(ErrorCodes.COMMAND_FAILED, `tar failed here: ${untar.stderr}`);
    // The guest is not trusted with this host: no setuid/setgid file comes out of it (as root,
    // --no-same-owner makes root the owner). GNU tar already refuses ".." and defers symlinks.
    await runner.run(['find', tmp, '-type', 'f', '-perm', '/6000', '-exec', 'chmod', 'u-s,g-s', '{}', '+']);
    const got = join(tmp, name);
    if (statSync(got).isDirectory() && existsSync(target) && statSync(target).isDirectory())
      await runner.run(['cp', '-a', `${got}/.`, `${target}/`]);
    else renameSync(got, target);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { vm: p.vm, direction: 'out', source: `${p.vm}:${p.remote}`, target };
}

interface Done {
  code: number | null;
  stderr: string;
  alive: boolean;
}

async function finished(p: ReturnType<ProcessRunner['spawn']>): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  p.child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const { code } = await p.exited;
  return { code, stderr: stderr.trim() };
}

async function remote(
  t: ExecTarget,
  runner: ProcessRunner,
  words: string[],
  stdin: Readable | 'inherit' | 'ignore',
  stdout: Writable | 'inherit' | 'ignore',
): Promise<Done> {
  const ssh = runner.spawn([...t.argv.slice(0, 1), '-T', ...t.argv.slice(1), '--', shellQuote(words)], {
    stdio: [stdin, stdout, 'pipe'],
    detached: false,
  });
  if (typeof stdout === 'object') stdout.destroy(); // the child has it now; our copy would keep tar waiting
  if (typeof stdin === 'object') stdin.destroy();
  const r = await finished(ssh);
  return { ...r, alive: r.code === 255 ? await t.masterAlive() : true };
}

function check(p: CpPlan, r: Done): void {
  if (r.code === 0) return;
  if (!r.alive) throw new BangerError(ErrorCodes.UNREACHABLE, `VM "${p.vm}" is not reachable over ssh`);
  const code = r.code === E_MISSING ? ErrorCodes.NOT_FOUND : r.code === E_IS_DIR ? ErrorCodes.INVALID_ARGUMENT : null;
  const why = r.stderr.split('\n').pop() || `exit ${r.code}`;
  throw new BangerError(code ?? ErrorCodes.COMMAND_FAILED, code ? why : `copy failed in the guest: ${why}`);
}
