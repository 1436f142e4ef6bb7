// A VM's own writable copy of an image: reflinked/sparse copy, then grown to the VM's disk
// size (truncate + e2fsck + resize2fs). Two VMs from one image never share a disk.
import { rmSync, statSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export async function createVmDisk(
  runner: ProcessRunner,
  imagePath: string,
  dest: string,
  sizeBytes: number,
): Promise<void> {
  let imageBytes: number;
  try {
    imageBytes = statSync(imagePath).size;
  } catch (err) {
    throw new BangerError(ErrorCodes.UNKNOWN_IMAGE, `image file ${imagePath} is missing`, { cause: err });
  }
  if (!Number.isInteger(sizeBytes) || sizeBytes < imageBytes) {
    throw new BangerError(
      ErrorCodes.INVALID_SIZE,
      `disk size ${sizeBytes} bytes is smaller than the image (${imageBytes} bytes): disks can grow, not shrink`,
    );
  }
  try {
    await runner.run(['cp', '--reflink=auto', '--sparse=always', imagePath, dest]);
    if (sizeBytes > imageBytes) {
      await truncate(dest, sizeBytes); // sparse: no process needed to grow the file
      // e2fsck -p: 0 = clean, 1 = fixed; resize2fs insists on a freshly checked filesystem.
      const fsck = await runner.run(['e2fsck', '-f', '-p', dest], { reject: false });
      if (fsck.exitCode > 1)
        throw new BangerError(
          ErrorCodes.COMMAND_FAILED,
          `e2fsck ${dest} failed (exit ${fsck.exitCode}): ${fsck.stdout.trim()} ${fsck.stderr.trim()}`,
        );
      await runner.run(['resize2fs', dest]);
    }
  } catch (err) {
    rmSync(dest, { force: true });
    throw err;
  }
}
