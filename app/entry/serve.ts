// The engine as a service (what `banger --detach` starts, and what the embedded TUI runs in
// its own process): one engine per state dir (a lock), the control socket, reconcile on start,
// and a clean step-aside for a newer build (handover) that leaves VMs running.
import { acquireEngineLock, tryAcquireEngineLock, type EngineLock } from '../control/lock.js';
import { ping } from '../control/client.js';
import { BangerError, ErrorCodes } from '../base/errors.js';
import type { Paths } from '../base/paths.js';
import { ControlServer } from '../control/server.js';
import { createEngine } from '../engine/wiring.js';
import type { Engine } from '../engine/engine.js';
import { resolvePaths, ensureBaseDirs } from '../base/paths.js';
import { buildId } from '../base/buildid.js';

export interface Service {
  engine: Engine;
  server: ControlServer;
  lock: EngineLock;
  /** Stop serving and let go of the state dir; VMs are left as they are. */
  close(): Promise<void>;
  /** Resolves when the service has ended (engine stop, handover, signal). */
  ended: Promise<void>;
  /** Why it ended (null while serving): shutdown = `engine stop`, handover = a newer build took over. */
  readonly endReason: 'shutdown' | 'handover' | 'closed' | null;
}

export async function startService(mode: 'embedded' | 'detached', env = process.env): Promise<Service> {
  const paths = resolvePaths(env);
  ensureBaseDirs(paths);
  const lock = await takeEngineLock(paths);
  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => {
    endedResolve = r;
  });
  let closing: Promise<void> | null = null;
  let endReason: Service['endReason'] = null;
  const close = (why: 'shutdown' | 'handover' | 'closed' = 'closed'): Promise<void> => {
    endReason ??= why;
    closing ??= (async () => {
      await server.close().catch(() => {});
      await engine.close().catch(() => {});
      engine.closeStore();
      lock.release();
      endedResolve();
    })();
    return closing;
  };
  let engine: Engine;
  try {
    engine = createEngine({
      env,
      paths,
      mode,
      full: true,
      onShutdown: () => {
        endReason ??= 'shutdown';
        setTimeout(() => void close('shutdown'), 20);
      },
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  const server: ControlServer = new ControlServer({
    engine,
    socketPath: paths.controlSocket,
    buildId: buildId(),
    mode,
    logger: engine.logger,
    onHandover: async () => {
      engine.logger.info('handing over to a newer build; VMs keep running');
      endReason ??= 'handover';
      setTimeout(() => void close('handover'), 20);
    },
  });
  try {
    await engine.start();
    await server.listen();
  } catch (err) {
    await engine.close().catch(() => {});
    engine.closeStore();
    lock.release();
    throw err;
  }
  engine.controlSocket = paths.controlSocket;
  // A detached engine probes its backends now (processes, off the request path), so the first
  // `banger status` answers at once. (Embedded, spawning would stall the TUI's first frame.)
  if (mode === 'detached') void engine.status().catch(() => {});
  return {
    engine,
    server,
    lock,
    close: () => close(),
    ended,
    get endReason() {
      return endReason;
    },
  };
}

/**
 * One engine per state dir. A holder that still answers on the socket is not stepping aside:
 * refuse at once, naming it. Otherwise it may be handing over: wait a little for the lock.
 */
async function takeEngineLock(paths: Paths): Promise<EngineLock> {
  try {
    return tryAcquireEngineLock(paths.engineLock);
  } catch (err) {
    if (!(err instanceof BangerError) || err.code !== ErrorCodes.ENGINE_RUNNING) throw err;
    const hello = await ping(paths.controlSocket, { timeoutMs: 1000 });
    if (hello && hello.pid === err.details?.pid) {
      throw new BangerError(
        ErrorCodes.ENGINE_RUNNING,
        `an engine is already running for ${paths.stateDir}: pid ${hello.pid}, socket ${paths.controlSocket}, build ${hello.buildId} (banger engine stop stops it)`,
        { details: { pid: hello.pid, socket: paths.controlSocket, buildId: hello.buildId } },
      );
    }
  }
  return acquireEngineLock(paths.engineLock, { waitMs: 5000 });
}

/** `banger engine serve`: run the service in the foreground until it is told to stop. */
export async function serveForeground(): Promise<number> {
  const svc = await startService('detached');
  const stop = () => {
    void svc.close();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {}); // the terminal that started us may go away
  // The line --detach waits for is the socket answering; this one is for humans reading the log.
  process.stdout.write(
    `banger engine ready: pid ${process.pid}, socket ${svc.engine.controlSocket}, build ${buildId()}\n`,
  );
  await svc.ended;
  return 0;
}
