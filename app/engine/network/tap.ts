// One TAP per VM, owned by the invoking user (so an unprivileged VMM can open it) and enslaved
// to the bridge. Names are derived from the VM id, so a crash leaves nothing we cannot find.
// Several banger instances (users, state dirs) may share a host: each tags its TAPs with an
// alias (banger:TAG) and only ever sweeps or replaces TAPs that are its own.
import type { ProcessRunner } from '../../base/process.js';
import type { Logger } from '../../base/log.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { isOurTap, tapAlias } from './identity.js';
import { deleteLink, getLink, listLinks, type LinkInfo } from './links.js';

/** Which instance is asking: its tag, and the bridge its VMs' TAPs join. */
export interface TapOwner {
  tag: string;
  bridge: string;
}

/**
 * Is this link a TAP of `owner`? Tagged: the tag decides. Untagged bgr-* TAPs were made by a
 * build before tags (or left by a crash between creating and tagging): ours only when they
 * sit on our bridge, since another instance's would sit on its own.
 */
export function isTapOf(link: LinkInfo, owner: TapOwner): boolean {
  if (!isOurTap(link.name) || !(link.kind === 'tun' || link.kind === null)) return false;
  if (link.alias) return link.alias === tapAlias(owner.tag);
  return link.master === owner.bridge;
}

export async function createTap(runner: ProcessRunner, name: string, owner: TapOwner, uid: number): Promise<void> {
  // A leftover TAP (crash, failed stop) may carry the wrong owner or master: start clean,
  // unless it belongs to another instance (VM ids sharing their first 6 hex digits).
  const existing = await getLink(runner, name);
  if (existing) {
    const stray = existing.alias === null && existing.master === null;
    if (!stray && !isTapOf(existing, owner)) {
      throw new BangerError(
        ErrorCodes.NETWORK,
        `TAP ${name} belongs to another banger instance (${existing.alias ?? `on bridge ${existing.master}`}); recreate this VM to get another id`,
      );
    }
    await deleteLink(runner, name);
  }
  await runner.run(['ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap', 'user', String(uid)], { privileged: true });
  try {
    // Tag, attach and bring up in one command: no state where it is up but untagged.
    await runner.run(['ip', 'link', 'set', 'dev', name, 'alias', tapAlias(owner.tag), 'master', owner.bridge, 'up'], {
      privileged: true,
    });
  } catch (err) {
    await deleteLink(runner, name).catch(() => undefined);
    throw err;
  }
}

/** Idempotent: a TAP that is already gone is fine. Returns whether it existed. */
export async function removeTap(runner: ProcessRunner, name: string): Promise<boolean> {
  return deleteLink(runner, name);
}

/** This instance's TAPs (see isTapOf); other users' and other state dirs' are not listed. */
export async function listOurTaps(runner: ProcessRunner, owner: TapOwner): Promise<LinkInfo[]> {
  return (await listLinks(runner)).filter((l) => isTapOf(l, owner));
}

/** Remove this instance's TAPs whose names are not in keep; returns the names removed. */
export async function sweepOrphanTaps(
  runner: ProcessRunner,
  owner: TapOwner,
  keep: Set<string>,
  logger?: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  for (const tap of await listOurTaps(runner, owner)) {
    if (keep.has(tap.name)) continue;
    if (await removeTap(runner, tap.name)) removed.push(tap.name);
    logger?.info('network: removed orphan TAP', { tap: tap.name });
  }
  return removed;
}
