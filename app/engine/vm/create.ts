// vm create: validate everything first (nothing written on bad input), then insert the
// record and make the per-VM disk; a failed disk copy removes the record again.
import { mkdirSync, rmSync } from 'node:fs';
import type { Backend, VmCreateInput, VmRecord } from '../../contract/api.js';
import type { Config } from '../config.js';
import type { Store } from '../store.js';
import type { ImagesPort } from '../ports.js';
import { BangerError, ErrorCodes, asNoSpace } from '../../base/errors.js';
import {
  validateBackend,
  validateBootArgs,
  validateDisk,
  validateMemory,
  validateName,
  validateStopTimeout,
  validateVcpus,
} from '../../contract/vm-spec.js';
import { parseUserData, validateSshKeys } from '../../contract/user-data.js';
import { newVmId, unstarted } from './vm-id.js';
import { mountsForCreate } from './mounts.js';
import { parsePortSpecs } from '../../contract/port-spec.js';
import { probeFree, refusePrivileged, refuseStoreClash } from '../ports/checks.js';
import { vmPaths, type Paths } from '../../base/paths.js';
import { runSpecOf } from './seed/run.js';

export interface CreateDeps {
  store: Store;
  config: Config;
  paths: Paths;
  defaultBackend: Backend;
  images: ImagesPort | null;
}

/** The image or kernel a VM gets when none is named: the configured default, else "default", else the only one. */
export function pickDefault(names: string[], configured: string | null): string | null {
  if (configured) return configured;
  if (names.includes('default')) return 'default';
  return names.length === 1 ? names[0] : null;
}

export async function createVm(d: CreateDeps, input: VmCreateInput): Promise<VmRecord> {
  const name = validateName(input.name);
  const vcpus = validateVcpus(input.vcpus ?? d.config.defaultVcpus);
  const memoryMib = validateMemory(input.memoryMib ?? d.config.defaultMemoryMib);
  const diskBytes = validateDisk(input.disk ?? d.config.defaultDisk);
  const backend = input.backend === undefined ? d.defaultBackend : validateBackend(input.backend);
  const bootArgs = validateBootArgs(input.bootArgs);
  const stopTimeoutMs = validateStopTimeout(input.stopTimeoutMs);
  // First-boot config: too large (E_USER_DATA_TOO_LARGE), not YAML, not a public key: nothing made.
  const userData = input.userData === undefined || input.userData === '' ? null : String(input.userData);
  parseUserData(userData);
  const sshKeys = validateSshKeys(input.sshKeys);
  const mounts = mountsForCreate(input.mounts, backend);

  const imageName =
    input.image ??
    pickDefault(
      d.store.listImages().map((i) => i.name),
      d.config.defaultImage,
    );
  const image = imageName === null ? null : d.store.getImage(imageName);
  if (imageName !== null && !image) {
    throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `unknown image "${imageName}" (see banger image ls)`);
  }
  const kernelName =
    input.kernel ??
    pickDefault(
      d.store.listKernels().map((k) => k.name),
      d.config.defaultKernel,
    );
  if (kernelName !== null && !d.store.getKernel(kernelName)) {
    throw new BangerError(ErrorCodes.UNKNOWN_KERNEL, `unknown kernel "${kernelName}" (see banger kernel ls)`);
  }
  if (input.run) {
    if (!image) throw new BangerError(ErrorCodes.NO_RUN_COMMAND, '--run needs an image with an Entrypoint or Cmd');
    runSpecOf(image);
  }
  if (image && diskBytes < image.sizeBytes) {
    throw new BangerError(
      ErrorCodes.INVALID_SIZE,
      `invalid disk size: ${diskBytes} bytes is smaller than image "${image.name}" (${image.sizeBytes} bytes)`,
    );
  }
  if (d.store.getVm(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `a VM named "${name}" already exists`);
  // Published ports: held by another VM of ours, privileged, or held by another process now.
  const ports = parsePortSpecs(input.publish);
  refuseStoreClash(d.store.listVms(), null, ports);
  refusePrivileged(ports);
  await probeFree(ports);

  // TAP names carry the first 6 hex of the id: keep them unique among our VMs.
  const taken = new Set(d.store.listVms().map((v) => v.id.slice(0, 6)));
  let id = newVmId();
  while (taken.has(id.slice(0, 6))) id = newVmId();
  const now = new Date().toISOString();
  const vm: VmRecord = {
    id,
    name,
    backend,
    image: image?.name ?? null,
    kernel: kernelName,
    vcpus,
    memoryMib,
    diskBytes,
    bootArgs,
    ...unstarted(id, now),
    stopTimeoutMs,
    userData,
    sshKeys,
    ...(mounts ? { mounts } : {}),
    ports,
    ...(input.run ? { run: true } : {}),
  };
  // The disk first, the record last: a VM that exists can always be started (no start can
  // race the copy), and a failed copy leaves no record. The UNIQUE constraint still settles
  // a race between two creates of one name; the loser's disk is removed.
  try {
    mkdirSync(vmPaths(d.paths, id).dir, { recursive: true, mode: 0o700 });
    if (image && d.images) await d.images.createVmDisk(image.path, vmPaths(d.paths, id).disk, diskBytes);
    return d.store.insertVm(vm);
  } catch (err) {
    rmSync(vmPaths(d.paths, id).dir, { recursive: true, force: true });
    throw asNoSpace(err, `creating the disk of VM "${name}"`);
  }
}
