// Pause, resume and snapshots for QEMU over QMP. A snapshot is QEMU's migration stream (vCPU,
// device and RAM state) sent to a Unix socket the engine listens on and written to a file; a
// restore starts QEMU with `-incoming defer` and the file open as its fd 3, and has it read
// that (migrate-incoming fd:3). QEMU 7.2 has no file: migration URI, and exec: would go
// through /bin/sh.
import { createWriteStream, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { finished } from 'node:stream/promises';
import type { SnapshotFiles, VmmHandle } from '../driver/contract.js';
import { withQmp, type QmpClient } from './qmp.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { pidAlive } from '../../base/pid.js';
import { sleep } from '../../base/time.js';

/** No throttle: the guest is paused, so the stream's speed is all that counts (bytes/s). */
const MAX_BANDWIDTH = 2 ** 40;
const QMP_OPTS = { timeoutMs: 3000, commandTimeoutMs: 10_000 };

export async function qemuPause(h: VmmHandle): Promise<void> {
  await withQmp(h.socketPath, (c) => c.execute('stop'), QMP_OPTS);
}

export async function qemuResume(h: VmmHandle): Promise<void> {
  // cont also takes a guest out of postmigrate (after a snapshot) and re-activates its disks.
  await withQmp(h.socketPath, (c) => c.execute('cont'), QMP_OPTS);
}

export async function qemuRunState(h: VmmHandle): Promise<'running' | 'paused' | null> {
  const st = await withQmp(h.socketPath, (c) => c.queryStatus(), QMP_OPTS);
  if (st.running) return 'running';
  return ['paused', 'postmigrate', 'prelaunch', 'suspended', 'inmigrate', 'finish-migrate'].includes(st.status)
    ? 'paused'
    : null;
}

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
}

async function waitOutgoing(c: QmpClient, deadline: number): Promise<void> {
  for (;;) {
    const info = await c.execute<MigrateInfo>('query-migrate');
    if (info.status === 'completed') return;
    if (info.status === 'failed' || info.status === 'cancelled')
      throw new BangerError(ErrorCodes.VMM, `qemu snapshot failed: ${info['error-desc'] ?? info.status}`);
    if (Date.now() > deadline) {
      await c.execute('migrate_cancel').catch(() => undefined);
      throw new BangerError(ErrorCodes.TIMEOUT, `qemu snapshot did not finish in time (status ${info.status})`);
    }
    await sleep(20);
  }
}

function listen(path: string): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/** The guest must be paused (it is left so: postmigrate, which `cont` leaves). */
export async function qemuSaveSnapshot(h: VmmHandle, files: SnapshotFiles, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const server = await listen(files.channel);
  const out = createWriteStream(files.state, { mode: 0o600 });
  // One connection: QEMU's stream, written to the state file until QEMU closes it.
  const written = new Promise<void>((resolve, reject) => {
    server.once('connection', (sock) => {
      server.close();
      sock.on('error', reject);
      sock.pipe(out);
      finished(out).then(resolve, reject);
    });
  });
  written.catch(() => undefined);
  try {
    await withQmp(
      h.socketPath,
      async (c) => {
        await c.execute('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH });
        await c.execute('migrate', { uri: `unix:${files.channel}` });
        await waitOutgoing(c, deadline);
      },
      QMP_OPTS,
    );
    // The deadline timer is cleared once the stream ends: left pending it kept the process
    // alive for up to five minutes after the TUI quit (issue 25 #1).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      written,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new BangerError(ErrorCodes.TIMEOUT, 'qemu snapshot stream did not end')),
          Math.max(1000, deadline - Date.now()),
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    server.close();
    out.destroy();
    rmSync(files.channel, { force: true });
  }
}

/** The fd a restored QEMU was given its saved stream on (the driver's launch step). */
export const STATE_FD = 3;

/**
 * Restore step: QEMU started with -incoming defer and the state file as its fd 3 reads the
 * stream itself (no copy through the engine: the load is the restore's longest step); wait
 * for it to load.
 */
export async function qemuLoadSnapshot(h: VmmHandle, _files: SnapshotFiles, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withQmp(
    h.socketPath,
    async (c) => {
      await c.execute('migrate-incoming', { uri: `fd:${STATE_FD}` });
      // The source was paused: once loaded, the guest sits in "paused" until cont.
      for (;;) {
        if (!pidAlive(h.pid)) throw new BangerError(ErrorCodes.VMM, 'qemu exited while loading the snapshot');
        const st = await c.queryStatus();
        if (st.status !== 'inmigrate') return;
        if (Date.now() > deadline) throw new BangerError(ErrorCodes.TIMEOUT, 'qemu did not load the snapshot in time');
        await sleep(20);
      }
    },
    QMP_OPTS,
  );
}
