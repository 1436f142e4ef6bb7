// The engine's one handle on host networking: bridge + NAT once, then a lease and a TAP per VM.
// Every host change goes through the ProcessRunner (privileged), every lease through the store.
import type { LeaseRecord } from '../../contract/api.js';
import type { ProcessRunner } from '../../base/process.js';
import type { Store } from '../store.js';
import type { NetworkPort } from '../ports.js';
import { UndoStack } from '../driver/undo.js';
import { nullLogger, type Logger } from '../../base/log.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { assertUsableSubnet, formatCidr, formatIp, gatewayOf, netmask, parseCidr, type Cidr } from './cidr.js';
import { isActive } from '../../contract/vm-facts.js';
import { instanceTag, kernelIpArg, macFor, tapName } from './identity.js';
import { allocateLease } from './leases.js';
import { ensureBridge, removeBridge } from './bridge.js';
import { createTap, listOurTaps, removeTap, sweepOrphanTaps, type TapOwner } from './tap.js';
import {
  detectNatBackend,
  ensureNat,
  natActive,
  otherInstancesNat,
  readIpForward,
  removeNat,
  setIpForward,
  type NatBackend,
} from './nat.js';
import { getLink, linkAddrs, type LinkInfo } from './links.js';

export interface HostNetworkOptions {
  runner: ProcessRunner;
  store: Store;
  bridge: string;
  subnet: string;
  /** Owner of the TAPs; defaults to the invoking user (SUDO_UID when run through sudo). */
  uid?: number;
  logger?: Logger;
  /** Force a NAT backend; default: nft when installed, else iptables. */
  nat?: NatBackend;
  /**
   * Identifies this banger instance on the host (the engine passes its state dir); hashed
   * into the alias its TAPs carry, so it only sweeps its own. Default: bridge + subnet.
   */
  tag?: string;
  /**
   * Not root: the engine's guest DNS port, which the bridge's port 53 is redirected to in our
   * nft table (the entry point allows only the port in the user's policy).
   */
  dnsRedirect?: number;
  /** Before a start: throws when root's policy now gives this engine another network. */
  policyCheck?: () => void;
}

export interface VmNetwork {
  tap: string;
  ip: string;
  mac: string;
  gateway: string;
  netmask: string;
  prefix: number;
  /** The kernel ip= clause for the boot args. */
  ipArg: string;
}

export interface NetworkStatus {
  bridge: string;
  subnet: string;
  gateway: string;
  bridgeExists: boolean;
  bridgeUp: boolean;
  bridgeHasGateway: boolean;
  /** backend null: neither nft nor iptables is installed. active null: cannot tell (sudo). */
  nat: { backend: NatBackend | null; active: boolean | null };
  taps: LinkInfo[];
  leases: LeaseRecord[];
}

/** Store setting: net.ipv4.ip_forward as it was before banger first turned it on ('' = none). */
export const IP_FORWARD_BEFORE = 'network.ipForwardBefore';

function defaultUid(): number {
  const sudoUid = Number(process.env.SUDO_UID);
  if (Number.isInteger(sudoUid) && sudoUid > 0) return sudoUid;
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

export class HostNetwork {
  readonly bridge: string;
  readonly subnet: Cidr;
  readonly uid: number;
  /** The hashed instance tag on our TAPs (alias banger:TAG). */
  readonly tag: string;
  private readonly runner: ProcessRunner;
  private readonly store: Store;
  private readonly logger: Logger;
  private natBackend: NatBackend | undefined;
  private readonly dnsRedirect: number | undefined;
  private readonly policyCheck: (() => void) | undefined;
  /** Off while another user holds our guest DNS port: guests' port 53 then reaches nothing. */
  private dnsRedirectOn = true;
  /** An older build's shared NAT table is looked for once, on the first ensureNat. */
  private legacyNatChecked = false;
  // Bridge and NAT setup are serialised: two VMs starting at once must not both `ip link add`.
  private hostLock: Promise<unknown> = Promise.resolve();

  constructor(opts: HostNetworkOptions) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(opts.bridge)) {
      throw new BangerError(
        ErrorCodes.INVALID_ARGUMENT,
        `bad bridge name "${opts.bridge}": 1-15 letters, digits, _ . -`,
      );
    }
    this.subnet = parseCidr(opts.subnet);
    assertUsableSubnet(this.subnet, opts.subnet);
    this.bridge = opts.bridge;
    this.runner = opts.runner;
    this.store = opts.store;
    this.uid = opts.uid ?? defaultUid();
    this.logger = opts.logger ?? nullLogger;
    this.natBackend = opts.nat;
    this.dnsRedirect = opts.dnsRedirect;
    this.policyCheck = opts.policyCheck;
    this.tag = instanceTag(opts.tag ?? `${opts.bridge} ${formatCidr(this.subnet)}`);
  }

  private get owner(): TapOwner {
    return { tag: this.tag, bridge: this.bridge };
  }

  gatewayIp(): string {
    return formatIp(gatewayOf(this.subnet));
  }
  netmask(): string {
    return netmask(this.subnet);
  }

  tapName(vmId: string): string {
    return tapName(vmId);
  }
  leaseFor(vmId: string): LeaseRecord | null {
    return this.store.getLease(vmId);
  }
  releaseLease(vmId: string): void {
    this.store.releaseLease(vmId);
  }

  private nat(): NatBackend {
    this.natBackend ??= detectNatBackend();
    return this.natBackend;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.hostLock.then(fn, fn);
    this.hostLock = next.catch(() => undefined);
    return next;
  }

  /** Create the bridge (after the overlap check) or repair it; idempotent. */
  ensureBridge(): Promise<void> {
    return this.locked(async () => {
      await ensureBridge(this.runner, this.bridge, this.subnet, this.logger);
    });
  }

  /** (Re)install our NAT table atomically and enable forwarding; idempotent. */
  ensureNat(): Promise<void> {
    return this.locked(async () => {
      // Recorded once (in the store, so it survives engine restarts) before the first change;
      // a later engine sees our own 1 and must not overwrite what the host had.
      if (!this.store.getSetting(IP_FORWARD_BEFORE)) {
        const before = await readIpForward(this.runner);
        if (before !== null) this.store.setSetting(IP_FORWARD_BEFORE, before);
      }
      await ensureNat(this.runner, this.nat(), this.bridge, this.subnet, {
        legacy: !this.legacyNatChecked,
        dnsRedirect: this.dnsRedirectOn ? this.dnsRedirect : undefined,
      });
      this.legacyNatChecked = true;
    });
  }

  async setDnsRedirect(on: boolean): Promise<void> {
    if (this.dnsRedirect === undefined || this.dnsRedirectOn === on) return;
    this.dnsRedirectOn = on;
    this.logger.warn(`network: guest DNS redirect ${on ? 'restored' : 'removed (another user holds its port)'}`);
    await this.ensureNat();
  }

  /** Not root: is the privileged entry point usable (the sudoers rule)? Throws E_SUDO_REQUIRED. */
  async preflight(): Promise<void> {
    this.policyCheck?.();
    await this.runner.checkPrivileged?.();
  }

  /** Lease (sticky) for a VM, without touching the host. */
  allocate(vmId: string): LeaseRecord {
    return allocateLease(this.store, this.subnet, vmId);
  }

  /**
   * Everything a VM needs before its VMM starts: bridge, NAT, lease, TAP. Each acquired
   * resource pushes an undo onto `undo`; without one, a failure here unwinds by itself.
   */
  async setupVm(vm: { id: string; name: string; tapUid?: number }, undo?: UndoStack): Promise<VmNetwork> {
    const tap = tapName(vm.id);
    const own = undo ?? new UndoStack();
    try {
      const clash = this.store.listVms().find((v) => v.id !== vm.id && v.tap === tap && isActive(v.state));
      if (clash) {
        throw new BangerError(
          ErrorCodes.NETWORK,
          `TAP ${tap} is in use by VM ${clash.name} (ids share their first 6 hex digits)`,
        );
      }
      await this.ensureBridge();
      await this.ensureNat();
      const hadLease = this.store.getLease(vm.id);
      const lease = allocateLease(this.store, this.subnet, vm.id);
      // A sticky lease survives a failed start; only a fresh one is given back.
      if (hadLease?.ip !== lease.ip) own.push(`release lease ${lease.ip}`, () => this.store.releaseLease(vm.id));
      await createTap(this.runner, tap, this.owner, vm.tapUid ?? this.uid);
      own.push(`remove TAP ${tap}`, async () => {
        await removeTap(this.runner, tap);
      });
      this.logger.info('network: VM attached', { vm: vm.name, tap, ip: lease.ip });
      return {
        tap,
        ip: lease.ip,
        mac: macFor(vm.id),
        gateway: this.gatewayIp(),
        netmask: this.netmask(),
        prefix: this.subnet.prefix,
        ipArg: kernelIpArg({ ip: lease.ip, gateway: this.gatewayIp(), netmask: this.netmask(), hostname: vm.name }),
      };
    } catch (err) {
      if (!undo) await own.unwind();
      throw err;
    }
  }

  /** On stop/delete: the TAP goes, the lease stays (release it on delete). Idempotent. */
  async teardownVm(vmId: string, tap?: string | null): Promise<void> {
    await removeTap(this.runner, tap ?? tapName(vmId));
  }

  /** Remove our NAT rules (idempotent). */
  removeNat(): Promise<void> {
    return this.locked(() => removeNat(this.runner, this.nat(), this.bridge, this.subnet, this.dnsRedirect));
  }

  /** Remove what banger put on the host: NAT, then the bridge (TAPs go with their VMs). Idempotent. */
  down(): Promise<void> {
    return this.locked(async () => {
      let natError: unknown;
      try {
        await removeNat(this.runner, this.nat(), this.bridge, this.subnet, this.dnsRedirect);
      } catch (err) {
        natError = err;
      }
      // The bridge goes even when NAT removal failed; the NAT error is still reported.
      await removeBridge(this.runner, this.bridge);
      if (!natError) await this.restoreIpForward();
      this.logger.info('network: down', { bridge: this.bridge });
      if (natError) throw natError;
    });
  }

  /**
   * Put ip_forward back to what it was before banger turned it on, unless another banger
   * instance on this host still forwards (then it stays on, and the record is dropped: that
   * instance's own record says 1).
   */
  private async restoreIpForward(): Promise<void> {
    const before = this.store.getSetting(IP_FORWARD_BEFORE);
    if (!before) return;
    if (before === '0') {
      const others = await otherInstancesNat(this.runner, this.nat(), this.bridge);
      if (others === null) {
        // Kept for the next purge to try again.
        this.logger.warn('network: ip_forward left on: cannot list the NAT rules');
        return;
      }
      if (others.length) {
        this.logger.warn('network: ip_forward left on: another banger instance still forwards', {
          others: others.join(', '),
        });
      } else {
        await setIpForward(this.runner, '0');
        this.logger.info('network: ip_forward restored to 0');
      }
    }
    this.store.setSetting(IP_FORWARD_BEFORE, '');
  }

  /** This instance's TAPs: tagged with our tag, or untagged on our bridge (older builds). */
  listOurTaps(): Promise<LinkInfo[]> {
    return listOurTaps(this.runner, this.owner);
  }

  /** Reconcile: remove our TAPs not in keep (the TAPs of VMs that still run). */
  sweepOrphanTaps(keep: Set<string>): Promise<string[]> {
    return sweepOrphanTaps(this.runner, this.owner, keep, this.logger);
  }

  async status(): Promise<NetworkStatus> {
    const link = await getLink(this.runner, this.bridge);
    const gw = `${this.gatewayIp()}/${this.subnet.prefix}`;
    let backend: NatBackend | null = null;
    try {
      backend = this.nat();
    } catch {
      /* neither nft nor iptables: reported as null */
    }
    return {
      bridge: this.bridge,
      subnet: formatCidr(this.subnet),
      gateway: this.gatewayIp(),
      bridgeExists: link !== null,
      bridgeUp: link?.up ?? false,
      bridgeHasGateway: link ? (await linkAddrs(this.runner, this.bridge)).includes(gw) : false,
      nat: { backend, active: backend ? await natActive(this.runner, backend, this.bridge, this.subnet) : false },
      taps: await listOurTaps(this.runner, this.owner),
      leases: this.store.listLeases(),
    };
  }
}

// Compile-time proof that the engine can take a HostNetwork as its NetworkPort.
const asPort = (h: HostNetwork): NetworkPort => h;
void asPort;
