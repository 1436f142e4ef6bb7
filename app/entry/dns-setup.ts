// banger dns setup [--apply]: placeholder until the DNS part lands.
import type { ProcessRunner } from '../engine/process.js';
import type { Paths } from '../paths.js';
import { BangerError, ErrorCodes } from '../errors.js';

export async function dnsSetup(_paths: Paths, _runner: ProcessRunner, _apply: boolean): Promise<string> {
  throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'dns setup is not implemented yet');
}
