// The host bridge every VM's TAP joins. It holds the gateway address (first host of the subnet)
// so guests route and resolve through the host. Idempotent: safe to call on every VM start.
import type { ProcessRunner } from '../../base/process.js';
import type { Logger } from '../../base/log.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { formatIp, gatewayOf, type Cidr } from './cidr.js';
import { deleteLink, getLink, linkAddrs } from './links.js';
import { assertNoOverlap } from './routes.js';

export interface BridgeResult {
  created: boolean;
  addressAdded: boolean;
  broughtUp: boolean;
}

export async function ensureBridge(
  runner: ProcessRunner,
  bridge: string,
  subnet: Cidr,
  logger?: Logger,
): Promise<BridgeResult> {
  const gw = `${formatIp(gatewayOf(subnet))}/${subnet.prefix}`;
  const link = await getLink(runner, bridge);
  if (link && link.kind !== 'bridge') {
    throw new BangerError(
      ErrorCodes.NETWORK,
      `${bridge} exists but is a ${link.kind ?? 'plain'} link, not a bridge; set another bridge name in the config`,
    );
  }
  const hasAddr = link ? (await linkAddrs(runner, bridge)).includes(gw) : false;
  // Checked before any change, so a refusal leaves the host exactly as it was.
  if (!hasAddr) await assertNoOverlap(runner, subnet, bridge);

  const result: BridgeResult = { created: false, addressAdded: false, broughtUp: false };
  try {
    if (!link) {
      // No STP and no forwarding delay: a TAP must pass traffic the moment the guest boots.
      await runner.run(
        ['ip', 'link', 'add', 'name', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'],
        { privileged: true },
      );
      result.created = true;
    }
    if (!hasAddr) {
      await runner.run(['ip', 'addr', 'add', gw, 'dev', bridge], { privileged: true });
      result.addressAdded = true;
    }
    if (!link?.up) {
      await runner.run(['ip', 'link', 'set', 'dev', bridge, 'up'], { privileged: true });
      result.broughtUp = true;
    }
  } catch (err) {
    // Undo only what this call made: a bridge we created goes entirely.
    if (result.created) await deleteLink(runner, bridge).catch(() => undefined);
    throw err;
  }
  if (result.created) logger?.info('network: bridge created', { bridge, gateway: gw });
  return result;
}

export async function removeBridge(runner: ProcessRunner, bridge: string): Promise<boolean> {
  return deleteLink(runner, bridge);
}
