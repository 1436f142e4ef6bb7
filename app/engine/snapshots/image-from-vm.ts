// image shell --save-as: a stopped VM's disk becomes a new image, through the image service's
// import (so it gets the same checks, customisation and record as any imported ext4).
import type { ImageFromVmInput, ImageRecord } from '../../contract/api.js';
import type { ImagesPort } from '../ports.js';
import type { VmLifecycle } from '../vm/lifecycle.js';
import { vmPaths } from '../../base/paths.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { Paths } from '../../base/paths.js';

export async function imageFromVm(
  images: ImagesPort,
  vms: VmLifecycle,
  paths: Paths,
  input: ImageFromVmInput,
): Promise<ImageRecord> {
  if (!input || typeof input !== 'object')
    throw new BangerError(ErrorCodes.INVALID_ARGUMENT, 'imageFromVm needs {vm, name}');
  const vm = vms.get(input.vm);
  // A running guest's disk is changing under us: only a stopped VM's disk is consistent.
  vms.requireState(vm, ['created', 'stopped', 'error'], 'save as an image');
  if (vms.isBusy(vm.id)) throw new BangerError(ErrorCodes.INVALID_STATE, `VM "${vm.name}" is busy`);
  return images.import({ name: input.name, path: vmPaths(paths, vm.id).disk });
}
