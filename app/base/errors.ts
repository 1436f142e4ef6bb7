// One public error type: a stable code for scripts and the wire, a one-line message for
// people, and the cause kept for logs.

export const ErrorCodes = {
  // user input
  INVALID_NAME: 'E_INVALID_NAME',
  NAME_TAKEN: 'E_NAME_TAKEN',
  INVALID_VCPUS: 'E_INVALID_VCPUS',
  INVALID_MEMORY: 'E_INVALID_MEMORY',
  INVALID_SIZE: 'E_INVALID_SIZE',
  INVALID_BACKEND: 'E_INVALID_BACKEND',
  INVALID_ARGUMENT: 'E_INVALID_ARGUMENT',
  UNKNOWN_IMAGE: 'E_UNKNOWN_IMAGE',
  UNKNOWN_KERNEL: 'E_UNKNOWN_KERNEL',
  INVALID_KERNEL: 'E_INVALID_KERNEL',
  NOT_FOUND: 'E_NOT_FOUND',
  IN_USE: 'E_IN_USE',
  INVALID_STATE: 'E_INVALID_STATE',
  USAGE: 'E_USAGE',
  NOT_IMPLEMENTED: 'E_NOT_IMPLEMENTED',
  // host and engine
  BOOT_FAILED: 'E_BOOT_FAILED',
  VMM: 'E_VMM',
  NETWORK: 'E_NETWORK',
  SUBNET_OVERLAP: 'E_SUBNET_OVERLAP',
  SUBNET_EXHAUSTED: 'E_SUBNET_EXHAUSTED',
  SUDO_REQUIRED: 'E_SUDO_REQUIRED',
  /** banger's privileged entry point refused a change outside banger's namespace. */
  PRIV_REFUSED: 'E_PRIV_REFUSED',
  COMMAND_FAILED: 'E_COMMAND_FAILED',
  BUILD_FAILED: 'E_BUILD_FAILED',
  CANCELLED: 'E_CANCELLED',
  ENGINE_RUNNING: 'E_ENGINE_RUNNING',
  ENGINE_UNAVAILABLE: 'E_ENGINE_UNAVAILABLE',
  PROTOCOL: 'E_PROTOCOL',
  TIMEOUT: 'E_TIMEOUT',
  DNS: 'E_DNS',
  NO_SPACE: 'E_NO_SPACE',
  VMM_ALIVE: 'E_VMM_ALIVE',
  /** A snapshot the VMM on this host cannot load (another version or format): nothing was changed. */
  SNAPSHOT_INCOMPATIBLE: 'E_SNAPSHOT_INCOMPATIBLE',
  INTERNAL: 'E_INTERNAL',
  /** A running VM that ssh cannot reach (refused, timed out, no route): vm exec / vm cp. */
  UNREACHABLE: 'E_UNREACHABLE',
  /** A runtime dir or socket that someone else could control. */
  UNTRUSTED_PATH: 'E_UNTRUSTED_PATH',
  /** setup sudoers --apply: a bridge or subnet root will not put in a user's policy. */
  UNSAFE_NETWORK: 'E_UNSAFE_NETWORK',
  /** The DNS port the host resolver sends .vm lookups to is held by another process. */
  DNS_PORT_TAKEN: 'E_DNS_PORT_TAKEN',
  // shared folders, published ports, first-boot config (vm create --mount/--publish/--user-data)
  /** A --mount whose host dir is missing or not a dir, or whose guest dir is not absolute. */
  INVALID_MOUNT: 'E_INVALID_MOUNT',
  /** A --publish that does not parse, or a port out of 1-65535. */
  INVALID_PORT: 'E_INVALID_PORT',
  /** A host port that another process (or another VM) already holds. */
  PORT_TAKEN: 'E_PORT_TAKEN',
  /** A host port below net.ipv4.ip_unprivileged_port_start asked for by an engine that is not root. */
  PORT_PRIVILEGED: 'E_PORT_PRIVILEGED',
  /** --user-data (or the seed as a whole) over the seed's size limit. */
  USER_DATA_TOO_LARGE: 'E_USER_DATA_TOO_LARGE',
  // OCI image import
  /** A blob whose bytes do not match its digest: refused, nothing kept. */
  DIGEST_MISMATCH: 'E_DIGEST_MISMATCH',
  /** The registry refused the credentials (or asked for some and none were found). */
  REGISTRY_AUTH: 'E_REGISTRY_AUTH',
  /** The registry could not be reached (down, refused, TLS failure). */
  REGISTRY_UNREACHABLE: 'E_REGISTRY_UNREACHABLE',
  /** A tag, digest or platform the source does not have. */
  UNKNOWN_REF: 'E_UNKNOWN_REF',
  /** vm create --run on an image with no OCI config, or one with neither Entrypoint nor Cmd. */
  NO_RUN_COMMAND: 'E_NO_RUN_COMMAND',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class BangerError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BangerError';
    this.code = code;
    this.details = opts.details;
  }

  /** A user error is the caller's to fix (exit 1); anything else is ours or the host's. */
  get isUserError(): boolean {
    return USER_CODES.has(this.code);
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }

  static fromWire(w: WireError): BangerError {
    // An engine of another build may know codes this one does not: they pass through as-is.
    return new BangerError(w.code as ErrorCode, w.message, { details: w.details });
  }
}

const USER_CODES = new Set<ErrorCode>([
  ErrorCodes.INVALID_NAME,
  ErrorCodes.NAME_TAKEN,
  ErrorCodes.INVALID_VCPUS,
  ErrorCodes.INVALID_MEMORY,
  ErrorCodes.INVALID_SIZE,
  ErrorCodes.INVALID_BACKEND,
  ErrorCodes.INVALID_ARGUMENT,
  ErrorCodes.UNKNOWN_IMAGE,
  ErrorCodes.UNKNOWN_KERNEL,
  ErrorCodes.INVALID_KERNEL,
  ErrorCodes.NOT_FOUND,
  ErrorCodes.IN_USE,
  ErrorCodes.INVALID_STATE,
  ErrorCodes.USAGE,
  ErrorCodes.NOT_IMPLEMENTED,
  ErrorCodes.SUBNET_OVERLAP,
  ErrorCodes.UNSAFE_NETWORK,
  ErrorCodes.SNAPSHOT_INCOMPATIBLE,
  ErrorCodes.INVALID_MOUNT,
  ErrorCodes.INVALID_PORT,
  ErrorCodes.PORT_TAKEN,
  ErrorCodes.PORT_PRIVILEGED,
  ErrorCodes.USER_DATA_TOO_LARGE,
  ErrorCodes.DIGEST_MISMATCH,
  ErrorCodes.REGISTRY_AUTH,
  ErrorCodes.UNKNOWN_REF,
  ErrorCodes.NO_RUN_COMMAND,
]);

/** Wrap anything thrown into a BangerError, keeping it as the cause. */
export function toBangerError(err: unknown, code: ErrorCode = ErrorCodes.INTERNAL): BangerError {
  if (err instanceof BangerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BangerError(code, message, { cause: err });
}

/** Is this a full disk (ENOSPC, SQLITE_FULL, or a command that said so)? */
export function isNoSpace(err: unknown): boolean {
  const e = err as { code?: string; message?: string; details?: { stderr?: string }; cause?: unknown };
  if (!e) return false;
  if (e.code === 'ENOSPC' || e.code === 'SQLITE_FULL' || e.code === ErrorCodes.NO_SPACE) return true;
  const text = `${e.message ?? ''} ${e.details?.stderr ?? ''}`;
  if (/No space left on device|ENOSPC|database or disk is full/i.test(text)) return true;
  return e.cause !== undefined && e.cause !== err && isNoSpace(e.cause);
}

/** A full disk becomes E_NO_SPACE naming what was being done; anything else passes through. */
export function asNoSpace(err: unknown, doing: string): unknown {
  if (!isNoSpace(err) || (err as { code?: string }).code === ErrorCodes.NO_SPACE) return err;
  return new BangerError(ErrorCodes.NO_SPACE, `no space left on device while ${doing}: free some space and retry`, {
    cause: err,
  });
}
