// The create form's checks, from the contract: the engine's own rules, one import to read.
export { absoluteMountSpec, planMounts, type HostDirCheck } from '../../contract/mounts.js';
export { parsePortSpecs } from '../../contract/port-spec.js';
export {
  ignoredWarning,
  parseUserData,
  SSH_KEY_MAX_BYTES,
  USER_DATA_MAX_BYTES,
  validateSshKeys,
} from '../../contract/user-data.js';
