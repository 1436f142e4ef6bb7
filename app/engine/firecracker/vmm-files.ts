// The VMM's own files and what its early exit means: fresh log and metrics per boot, the
// error for a VMM that died before its socket (what sudo or the entry point said, if it was
// them), and whether this host can run Firecracker at all (doctor, backend choice).
import { closeSync, existsSync, openSync, renameSync, statSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { LaunchSpec } from '../driver/contract.js';
import { SETUP_HINT, which, type ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { readTail } from '../../base/fsutil.js';
import { directProbe, type Probe } from '../../base/probe.js';

export async function firecrackerAvailable(
  runner: ProcessRunner,
  name: string,
  kvmPath: string | null | undefined,
  /** Through sudo or the jailer: the VMM does not open /dev/kvm as this user. */
  viaSudo: boolean,
  probe?: Probe,
): Promise<{ ok: boolean; reason: string; version?: string }> {
  const bin = which(name);
  if (!bin)
    return {
      ok: false,
      reason: `firecracker not found: "${name}" is not on PATH (set firecrackerBin or FIRECRACKER_BIN)`,
    };
  const r = await (probe ?? directProbe(runner))([bin, '--version']);
  const m = /Firecracker v(\S+)/.exec(r.stdout);
  if (r.exitCode !== 0 || !m)
    return {
      ok: false,
      reason: `${bin} --version failed: ${(r.stderr || r.stdout).trim().split('\n')[0] || 'exit ' + r.exitCode}`,
    };
  const kvm = kvmPath === undefined ? '/dev/kvm' : kvmPath;
  if (kvm && !runner.isRoot && !viaSudo) {
    try {
      await access(kvm, constants.R_OK | constants.W_OK);
    } catch {
      return { ok: false, reason: `${kvm} is not read/write for this user (add it to the kvm group)`, version: m[1] };
    }
  } else if (kvm && !existsSync(kvm)) {
    return { ok: false, reason: `${kvm} does not exist (no KVM on this host)`, version: m[1] };
  }
  return { ok: true, reason: `Firecracker v${m[1]} at ${bin}`, version: m[1] };
}

export function earlyExit(
  e: { code: number | null; signal: string | null },
  spec: LaunchSpec,
  sudoed: boolean,
): BangerError {
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  const last = lastLine(spec.consoleLog) || lastLine(spec.vmmLog);
  if (sudoed) {
    // Through sudo, stderr is the console log: say what sudo or the entry point said.
    const refused = /banger-priv: refused: (.*) \[E_PRIV_REFUSED\]/.exec(last);
    if (refused)
      return new BangerError(ErrorCodes.PRIV_REFUSED, `the privileged entry point refused Firecracker: ${refused[1]}`);
    if (/password is required|a terminal is required|not allowed to execute/i.test(last))
      return new BangerError(ErrorCodes.SUDO_REQUIRED, `not allowed to run Firecracker through sudo: ${SETUP_HINT}`);
  }
  return new BangerError(
    ErrorCodes.VMM,
    `firecracker ${how} before its API socket was ready${last ? ': ' + last : ''}`,
    { details: { exitCode: e.code, signal: e.signal } },
  );
}

/**
 * Fresh log and metrics files per boot: Firecracker opens them without O_APPEND or O_TRUNC, so
 * it would write over the last boot's from offset 0. The last boot's log is kept as vmm.log.1.
 */
export function prepareVmmFiles(spec: LaunchSpec): void {
  try {
    if (statSync(spec.vmmLog).size > 0) renameSync(spec.vmmLog, `${spec.vmmLog}.1`);
  } catch {
    /* no log yet */
  }
  for (const f of [spec.vmmLog, spec.metricsPath]) closeSync(openSync(f, 'w', 0o600));
  closeSync(openSync(spec.consoleLog, 'a', 0o600));
}

/** The last line of a log (its first 300 characters), read from the file's last 64 KiB only. */
function lastLine(path: string): string {
  const lines = readTail(path, 64 * 1024)
    .trim()
    .split('\n')
    .filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
