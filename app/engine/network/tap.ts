// One TAP per VM, owned by the invoking user (so an unprivileged VMM can open it) and enslaved
// to the bridge. Names are derived from the VM id, so a crash leaves nothing we cannot find.
import type { ProcessRunner } from '../process.js';
import type { Logger } from '../../log.js';
import { isOurTap } from './identity.js';
import { deleteLink, getLink, listLinks, type LinkInfo } from './links.js';

export async function createTap(runner: ProcessRunner, name: string, bridge: string, uid: number): Promise<void> {
  // A leftover TAP (crash, failed stop) may carry the wrong owner or master: start clean.
  if (await getLink(runner, name)) await deleteLink(runner, name);
  await runner.run(['ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap', 'user', String(uid)], { privileged: true });
  try {
    await runner.run(['ip', 'link', 'set', 'dev', name, 'master', bridge, 'up'], { privileged: true });
  } catch (err) {
    await deleteLink(runner, name).catch(() => undefined);
    throw err;
  }
}

/** Idempotent: a TAP that is already gone is fine. Returns whether it existed. */
export async function removeTap(runner: ProcessRunner, name: string): Promise<boolean> {
  return deleteLink(runner, name);
}

/** TAPs named like ours (bgr-xxxxxx), whoever's VM they belonged to. */
export async function listOurTaps(runner: ProcessRunner): Promise<LinkInfo[]> {
  return (await listLinks(runner)).filter((l) => isOurTap(l.name) && (l.kind === 'tun' || l.kind === null));
}

/** Remove our TAPs whose names are not in keep; returns the names removed. */
export async function sweepOrphanTaps(
  runner: ProcessRunner, keep: Set<string>, logger?: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  for (const tap of await listOurTaps(runner)) {
    if (keep.has(tap.name)) continue;
    if (await removeTap(runner, tap.name)) removed.push(tap.name);
    logger?.info('network: removed orphan TAP', { tap: tap.name });
  }
  return removed;
}
