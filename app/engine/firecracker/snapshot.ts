// Pause, resume and snapshots through Firecracker's API, as its snapshotting docs describe:
// PATCH /vm {state}, PUT /snapshot/create on a paused microVM, and PUT /snapshot/load on a fresh
// process (only logger and metrics configured before it), which brings the guest back.
import type { BootStep, LaunchSpec, SnapshotFiles, VmmHandle } from '../driver/contract.js';
import { FirecrackerClient, type SnapshotLoad } from './client.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

/** Snapshot calls write or map the whole guest memory: far longer than a config call. */
const SNAPSHOT_TIMEOUT_MS = 300_000;
/** network_overrides on /snapshot/load arrived in Firecracker v1.12.0. */
const OVERRIDES_SINCE: [number, number] = [1, 12];

async function withClient<T>(sock: string, fn: (c: FirecrackerClient) => Promise<T>): Promise<T> {
  const c = new FirecrackerClient(sock, { timeoutMs: 5000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export function fcPause(h: VmmHandle): Promise<void> {
  return withClient(h.socketPath, (c) => c.patchVm('Paused'));
}

export function fcResume(h: VmmHandle): Promise<void> {
  return withClient(h.socketPath, (c) => c.patchVm('Resumed'));
}

export async function fcRunState(h: VmmHandle): Promise<'running' | 'paused' | null> {
  const info = await withClient(h.socketPath, (c) => c.getInstanceInfo());
  return info.state === 'Running' ? 'running' : info.state === 'Paused' ? 'paused' : null;
}

/** The running VMM's version (GET /version), recorded with what it writes. */
export async function fcVersionOf(h: VmmHandle): Promise<string> {
  return (await withClient(h.socketPath, (c) => c.getVersion())).firecracker_version;
}

export function fcSaveSnapshot(h: VmmHandle, files: SnapshotFiles): Promise<void> {
  return withClient(h.socketPath, (c) =>
    c.createSnapshot(
      { snapshot_type: 'Full', snapshot_path: files.state, mem_file_path: files.memory },
      { timeoutMs: SNAPSHOT_TIMEOUT_MS },
    ),
  );
}

function versionAtLeast(v: string, [major, minor]: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** The load request: the TAP the VM has now, as an override where the version knows them. */
export function loadRequest(files: SnapshotFiles, tap: string | null, nicId: string, version: string): SnapshotLoad {
  const body: SnapshotLoad = {
    snapshot_path: files.state,
    mem_backend: { backend_type: 'File', backend_path: files.memory },
    resume_vm: true,
  };
  // Older versions reopen the TAP named in the snapshot: banger's TAP name is per VM and stable.
  if (tap && versionAtLeast(version, OVERRIDES_SINCE))
    body.network_overrides = [{ iface_id: nicId, host_dev_name: tap }];
  return body;
}

/** Restore: boot's launch, socket wait, logger and metrics, then load (and resume) instead of configuring. */
export function fcRestoreSteps(spec: LaunchSpec, boot: BootStep[], nicId: string): BootStep[] {
  const files = spec.restoreFrom;
  if (!files) throw new BangerError(ErrorCodes.INTERNAL, 'restoreSteps without a snapshot');
  const keep = new Set(['launch-vmm', 'wait-socket', 'logger', 'metrics']);
  return [
    ...boot.filter((s) => keep.has(s.name)),
    {
      name: 'load-snapshot',
      run: () =>
        withClient(spec.socketPath, async (c) => {
          const { firecracker_version: version } = await c.getVersion();
          await c.loadSnapshot(loadRequest(files, spec.tap, nicId, version), { timeoutMs: SNAPSHOT_TIMEOUT_MS });
          const info = await c.getInstanceInfo();
          if (info.state !== 'Running')
            throw new BangerError(ErrorCodes.VMM, `firecracker loaded the snapshot but the guest is ${info.state}`);
        }),
    },
  ];
}
