// Shared folders on QEMU: one virtiofsd (QEMU's own, /usr/lib/qemu/virtiofsd, from the same
// Debian package as QEMU 7.2) per folder, run as the user in a user+mount namespace
// (assets/virtiofsd-run.sh), serving QEMU alone over a vhost-user socket in the VM's 0700 dir.
// No network is involved: another VM, the LAN or another local user has nothing to connect to.
// virtiofsd exits when its QEMU goes, so a restart or an engine restart needs nothing more.
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MountSpec } from '../../contract/api.js';
import type { ProcessRunner } from '../../base/process.js';
import type { UndoStack } from '../driver/undo.js';
import type { Logger } from '../../base/log.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { assetPath, assetsDir } from '../images/assets.js';
import { readTail } from '../../base/fsutil.js';
import { pidAlive } from '../../base/pid.js';
import { sleep } from '../../base/time.js';

export const VIRTIOFSD = process.env.BANGER_VIRTIOFSD || '/usr/lib/qemu/virtiofsd';
/** Built at install by scripts/build-native.mjs (native/virtiofsd-shim/setgroups.c says why). */
export function shimPath(): string {
  return resolve(assetsDir(), '..', 'native', 'virtiofsd-shim', 'build', 'setgroups.so');
}

/** One folder's files in the VM's dir: the vhost-user socket, an empty bind target, a log. */
export interface ShareFiles {
  tag: string;
  socket: string;
  root: string;
  log: string;
}

export function shareFiles(vmDir: string, tag: string): ShareFiles {
  return {
    tag,
    socket: join(vmDir, `fs-${tag}.sock`),
    root: join(vmDir, 'fs', tag),
    log: join(vmDir, `fs-${tag}.log`),
  };
}

/** Why shared folders cannot start here, or null. */
export function virtiofsUnavailable(): string | null {
  if (!existsSync(VIRTIOFSD)) return `${VIRTIOFSD} not found (install qemu-system-common)`;
  if (!existsSync(shimPath())) return `${shimPath()} not built (run npm run build:native; it needs a C compiler)`;
  return null;
}

/** argv of one folder's server: unshare as the user, then the launcher script. */
export function virtiofsdArgv(m: MountSpec, f: ShareFiles): string[] {
  return [
    'unshare',
    '--user',
    '--map-root-user',
    '--mount',
    '--',
    'sh',
    assetPath('virtiofsd-run.sh'),
    VIRTIOFSD,
    shimPath(),
    f.socket,
    m.hostDir,
    f.root,
    m.readOnly ? 'ro' : 'rw',
  ];
}

const SUN_PATH_MAX = 107;

/**
 * A server left waiting on this socket (an engine that died between starting it and QEMU): ours
 * (same uid) and serving exactly this path, so it is never another VM's or another user's.
 */
function endStale(socket: string): void {
  const uid = process.getuid?.() ?? 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
      if (!args.includes(`--socket-path=${socket}`) || statSync(`/proc/${p}`).uid !== uid) continue;
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone, or not ours to read */
    }
  }
}

/**
 * Start every folder's server and wait for its socket; each pushes its kill on undo. A server
 * that exits first fails the boot with the last lines of its log.
 */
export async function startShares(
  runner: ProcessRunner,
  vmDir: string,
  mounts: MountSpec[],
  undo: UndoStack,
  log: Logger,
  waitMs = 5000,
): Promise<ShareFiles[]> {
  if (!mounts.length) return [];
  const why = virtiofsUnavailable();
  if (why) throw new BangerError(ErrorCodes.INVALID_MOUNT, `cannot share folders: ${why}`);
  const out: ShareFiles[] = [];
  for (const m of mounts) {
    const f = shareFiles(vmDir, m.tag);
    if (f.socket.length > SUN_PATH_MAX)
      throw new BangerError(ErrorCodes.INVALID_MOUNT, `socket path too long for a Unix socket: ${f.socket}`);
    if (!existsSync(m.hostDir))
      throw new BangerError(ErrorCodes.INVALID_MOUNT, `shared folder ${m.hostDir} (at ${m.guestDir}) no longer exists`);
    endStale(f.socket);
    rmSync(f.socket, { force: true });
    mkdirSync(f.root, { recursive: true, mode: 0o700 });
    const fd = openSync(f.log, 'w', 0o600);
    let child;
    try {
      child = runner.spawn(virtiofsdArgv(m, f), { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    let exited = false;
    void child.exited.then(() => (exited = true));
    undo.push(`stop virtiofsd ${m.tag}`, () => {
      if (pid > 0 && pidAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(f.socket, { force: true });
    });
    const deadline = Date.now() + waitMs;
    while (!existsSync(f.socket)) {
      if (exited || pid <= 0 || Date.now() > deadline) {
        const tail = readTail(f.log, 800, 0).trim().split('\n').slice(-3).join(' | ');
        throw new BangerError(
          ErrorCodes.VMM,
          `virtiofsd for ${m.hostDir} ${exited ? 'exited' : 'did not listen'}${tail ? `: ${tail}` : ''}`,
        );
      }
      await sleep(20);
    }
    log.info(`virtiofsd ${m.tag} for ${m.hostDir}`, { pid, readOnly: m.readOnly });
    out.push(f);
  }
  return out;
}
