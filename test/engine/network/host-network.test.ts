// Real `ip` and `nft` inside a throwaway network namespace per test: nothing touches the root
// namespace. Skipped (with a note) when not root.
import { test } from 'uvu';
import { NEEDS_ROOT, runIf } from '../../helpers/skip.js';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../app/engine/store.js';
import { HostNetwork, IP_FORWARD_BEFORE } from '../../../app/engine/network/host-network.js';
import { UndoStack } from '../../../app/engine/driver/undo.js';
import { BangerError } from '../../../app/base/errors.js';
import { createRunner, type ProcessRunner } from '../../../app/base/process.js';
import { macFor } from '../../../app/engine/network/identity.js';
import { createNetns, netnsRunner, type Netns } from './netns.js';

const nsTest = runIf(test, NEEDS_ROOT);

const OWNER = 4321; // not our uid: proves the owner is what we asked for
const vmA = { id: 'a1b2c3d4e5f6a7b8', name: 'alpha' };
const vmB = { id: '0f0e0d0c0b0a0908', name: 'beta' };

interface Ctx {
  ns: Netns;
  store: Store;
  net: HostNetwork;
  mk(o?: { subnet?: string; runner?: ProcessRunner }): HostNetwork;
}

async function withNs(tag: string, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const ns = await createNetns(tag);
  const dir = mkdtempSync(join(tmpdir(), 'banger-net-'));
  const store = new Store(join(dir, 'state.db'));
  const mk = (o: { subnet?: string; runner?: ProcessRunner } = {}) =>
    new HostNetwork({
      runner: o.runner ?? ns.runner,
      store,
      bridge: 'banger0',
      subnet: o.subnet ?? '172.30.0.0/24',
      uid: OWNER,
      nat: 'nft',
    });
  try {
    await fn({ ns, store, net: mk(), mk });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    await ns.destroy();
  }
}

async function jsonOf<T>(ns: Netns, argv: string[]): Promise<T> {
  const r = await ns.sh(argv);
  assert.is(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

type Link = { ifname: string; flags: string[]; master?: string; address: string; linkinfo?: { info_kind?: string } };
type Addr = { addr_info: { local: string; prefixlen: number }[] };

async function link(ns: Netns, name: string): Promise<Link | null> {
  const r = await ns.sh(['ip', '-j', '-d', 'link', 'show', 'dev', name]);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Link[])[0] : null;
}

/** Rules of the NAT table of `bridge`: each bridge has its own table, inet banger_BRIDGE. */
async function nftRules(ns: Netns, bridge = 'banger0'): Promise<string[] | null> {
  const r = await ns.sh(['nft', '-j', 'list', 'table', 'inet', `banger_${bridge}`]);
  if (r.exitCode !== 0) return null;
  const items = (JSON.parse(r.stdout) as { nftables: { rule?: { chain: string; expr: unknown } }[] }).nftables;
  return items.flatMap((i) => (i.rule ? [`${i.rule.chain}: ${JSON.stringify(i.rule.expr)}`] : []));
}

nsTest("setupVm: the TAP made for the uid the VMM runs as (a root engine's jailed VMM)", () =>
  withNs('tapuid', async ({ ns, net }) => {
    const v = await net.setupVm({ ...vmA, tapUid: 900_000_123 });
    assert.is((await ns.sh(['cat', `/sys/class/net/${v.tap}/owner`])).stdout.trim(), '900000123');
  }),
);

nsTest('setupVm: bridge with gateway, owned TAP on the bridge, NAT table, forwarding on', () =>
  withNs('setup', async ({ ns, net }) => {
    const v = await net.setupVm(vmA);
    assert.equal(
      { tap: v.tap, ip: v.ip, gateway: v.gateway, netmask: v.netmask, prefix: v.prefix },
      { tap: 'bgr-a1b2c3', ip: '172.30.0.2', gateway: '172.30.0.1', netmask: '255.255.255.0', prefix: 24 },
    );
    assert.is(v.ipArg, 'ip=172.30.0.2::172.30.0.1:255.255.255.0:alpha:eth0:off:172.30.0.1');
    assert.is(v.mac, macFor(vmA.id));

    const br = await link(ns, 'banger0');
    assert.ok(br, 'bridge exists');
    assert.is(br!.linkinfo?.info_kind, 'bridge');
    assert.ok(br!.flags.includes('UP'), 'bridge is up');
    const addrs = await jsonOf<Addr[]>(ns, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'banger0']);
    assert.equal(
      addrs[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`),
      ['172.30.0.1/24'],
    );

    const tap = await link(ns, v.tap);
    assert.ok(tap, 'TAP exists');
    assert.is(tap!.linkinfo?.info_kind, 'tun');
    assert.is(tap!.master, 'banger0');
    assert.ok(tap!.flags.includes('UP'));
    assert.is((await ns.sh(['cat', `/sys/class/net/${v.tap}/owner`])).stdout.trim(), String(OWNER));
    const tunFlags = parseInt((await ns.sh(['cat', `/sys/class/net/${v.tap}/tun_flags`])).stdout.trim(), 16);
    assert.ok(tunFlags & 0x0002, 'IFF_TAP, not a TUN');

    const rules = await nftRules(ns);
    assert.ok(rules, 'table inet banger_banger0 exists');
    assert.is(rules!.length, 4);
    assert.ok(
      rules!.some(
        (r) =>
          r.startsWith('postrouting:') && r.includes('masquerade') && r.includes('172.30.0.0') && r.includes('"!="'),
      ),
    );
    assert.ok(rules!.some((r) => r.startsWith('forward:') && r.includes('established')));
    assert.is((await ns.sh(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');

    // Every change to the host asked for privileges (sudo -n when not root).
    const reads = (argv: string[]) => argv.includes('show') || (argv[0] === 'sysctl' && argv[1] === '-n');
    const mutating = ns.calls.filter((c) => !reads(c.argv));
    assert.ok(mutating.length >= 6);
    for (const c of mutating) assert.is(c.opts.privileged, true, c.argv.join(' '));
  }),
);

nsTest('idempotent: a second setup adds nothing; a deleted bridge is re-created', () =>
  withNs('idem', async ({ ns, net, store }) => {
    const first = await net.setupVm(vmA);
    await net.ensureBridge();
    await net.ensureNat();
    const again = await net.setupVm(vmA);
    assert.is(again.ip, first.ip, 'sticky lease');
    assert.is((await nftRules(ns))!.length, 4, 'no duplicate rules');
    const addrs = await jsonOf<Addr[]>(ns, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'banger0']);
    assert.is(addrs[0].addr_info.length, 1);
    assert.is(store.listLeases().length, 1);

    await ns.sh(['ip', 'link', 'del', 'banger0']);
    assert.is(await link(ns, 'banger0'), null);
    const b = await net.setupVm(vmB);
    assert.ok(await link(ns, 'banger0'), 'bridge re-created');
    assert.is((await link(ns, b.tap))!.master, 'banger0');
    assert.is(b.ip, '172.30.0.3');
  }),
);

nsTest('teardown removes the TAP (twice is fine); the lease stays until released', () =>
  withNs('teardown', async ({ ns, net }) => {
    const v = await net.setupVm(vmA);
    await net.teardownVm(vmA.id, v.tap);
    assert.is(await link(ns, v.tap), null);
    await net.teardownVm(vmA.id, null);
    assert.is(net.leaseFor(vmA.id)?.ip, '172.30.0.2');
    assert.is((await net.setupVm(vmA)).ip, '172.30.0.2');
    net.releaseLease(vmA.id);
    assert.is(net.leaseFor(vmA.id), null);
  }),
);

nsTest('down() removes the NAT table and the bridge; twice is fine', () =>
  withNs('down', async ({ ns, net }) => {
    await net.setupVm(vmA);
    assert.ok(await nftRules(ns));
    await net.down();
    assert.is(await nftRules(ns), null);
    assert.is(await link(ns, 'banger0'), null);
    await net.down();
    const s = await net.status();
    assert.equal([s.bridgeExists, s.bridgeUp, s.nat.active], [false, false, false]);
  }),
);

nsTest(
  'ip_forward: recorded before the first change, restored on down(); left on while another instance forwards',
  () =>
    withNs('fwd', async ({ ns, net, mk, store }) => {
      const fwd = async () => (await ns.sh(['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim();
      assert.is((await ns.sh(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0'])).exitCode, 0);
      await net.setupVm(vmA);
      assert.is(await fwd(), '1');
      // A restarted engine (a new HostNetwork on the same store) sees our 1 and keeps the 0.
      await mk().ensureNat();
      assert.is(store.getSetting(IP_FORWARD_BEFORE), '0');
      await mk().down();
      assert.is(await fwd(), '0', 'restored to what the host had');
      assert.is(store.getSetting(IP_FORWARD_BEFORE), '', 'record consumed');

      // Already on before banger: stays on.
      assert.is((await ns.sh(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])).exitCode, 0);
      await net.setupVm(vmA);
      await net.down();
      assert.is(await fwd(), '1');

      // Another instance's NAT table still needs forwarding: left on.
      assert.is((await ns.sh(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0'])).exitCode, 0);
      await net.setupVm(vmA);
      await ns.runner.run(['nft', '-f', '-'], { input: 'table inet banger_other0 {\n}\n' });
      await net.down();
      assert.is(await fwd(), '1', 'another instance still forwards');
    }),
);

nsTest('a subnet overlapping a route is refused with E_SUBNET_OVERLAP and changes nothing', () =>
  withNs('overlap', async ({ ns, mk }) => {
    // No dummy module here: a veth pair is just as real a link with a connected route.
    for (const argv of [
      ['ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1'],
      ['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'lan0'],
      ['ip', 'link', 'set', 'lan0', 'up'],
      ['ip', 'link', 'set', 'lan1', 'up'],
    ])
      assert.is((await ns.sh(argv)).exitCode, 0, argv.join(' '));
    const expectOverlap = async (net: HostNetwork, subnet: string, route: RegExp, dev: string) => {
      try {
        await net.setupVm(vmA);
        assert.unreachable('no overlap reported');
      } catch (err) {
        assert.is((err as BangerError).code, 'E_SUBNET_OVERLAP', String(err));
        assert.match((err as Error).message, subnet);
        assert.match((err as Error).message, route);
        assert.match((err as Error).message, dev);
      }
    };
    const net = mk({ subnet: '10.99.0.0/16' });
    await expectOverlap(net, '10.99.0.0/16', /10\.99\.0\.0\/24/, 'lan0');
    assert.is(await link(ns, 'banger0'), null, 'no bridge');
    assert.is(await nftRules(ns), null, 'no NAT');
    assert.is(net.leaseFor(vmA.id), null, 'no lease');
    assert.is((await ns.sh(['ip', '-j', 'link', 'show', 'type', 'tun'])).stdout.trim(), '[]', 'no TAP');

    // An address on a link that is down has no route, but is still taken.
    for (const argv of [
      ['ip', 'tuntap', 'add', 'dev', 'off0', 'mode', 'tap'],
      ['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'off0'],
    ]) {
      assert.is((await ns.sh(argv)).exitCode, 0, argv.join(' '));
    }
    await expectOverlap(mk({ subnet: '10.77.0.0/25' }), '10.77.0.0/25', /10\.77\.0\.1\/24/, 'off0');

    // A disjoint subnet next door is fine.
    const ok = await mk({ subnet: '10.98.0.0/24' }).setupVm(vmA);
    assert.is(ok.ip, '10.98.0.2');
  }),
);

nsTest("orphan sweep: only this instance's TAPs (our tag, or untagged on our bridge) not in keep", () =>
  withNs('sweep', async ({ ns, net }) => {
    const known = await net.setupVm(vmA);
    assert.is(
      (await ns.sh(['cat', `/sys/class/net/${known.tap}/ifalias`])).stdout.trim(),
      `banger:${net.tag}`,
      'tagged at creation',
    );
    const sh = async (argv: string[]) => assert.is((await ns.sh(argv)).exitCode, 0, argv.join(' '));
    await sh(['ip', 'link', 'add', 'name', 'otherbr', 'type', 'bridge']);
    for (const t of ['bgr-00ff00', 'bgr-00ee00', 'bgr-00dd00', 'bgr-00cc00', 'bgr-00bb00', 'tap7'])
      await sh(['ip', 'tuntap', 'add', 'dev', t, 'mode', 'tap']);
    await sh(['ip', 'link', 'set', 'dev', 'bgr-00ff00', 'master', 'banger0']); // an older build's, on our bridge
    await sh(['ip', 'link', 'set', 'dev', 'bgr-00ee00', 'alias', 'banger:0123456789ab', 'master', 'otherbr']); // another instance's
    await sh(['ip', 'link', 'set', 'dev', 'bgr-00dd00', 'master', 'otherbr']); // an older build's, another bridge
    await sh(['ip', 'link', 'set', 'dev', 'bgr-00cc00', 'alias', `banger:${net.tag}`]); // ours, detached
    await sh(['ip', 'link', 'set', 'dev', 'bgr-00bb00', 'alias', 'banger:0123456789ab', 'master', 'banger0']); // another instance's, on our bridge
    assert.equal((await net.listOurTaps()).map((t) => t.name).sort(), ['bgr-00cc00', 'bgr-00ff00', known.tap].sort());
    const removed = await net.sweepOrphanTaps(new Set([known.tap]));
    assert.equal(removed.sort(), ['bgr-00cc00', 'bgr-00ff00']);
    assert.is(await link(ns, 'bgr-00ff00'), null);
    assert.is(await link(ns, 'bgr-00cc00'), null);
    assert.ok(await link(ns, known.tap));
    for (const t of ['bgr-00ee00', 'bgr-00dd00', 'bgr-00bb00', 'tap7'])
      assert.ok(await link(ns, t), `${t}: not ours, untouched`);
  }),
);

nsTest('a TAP name taken by another instance is refused, never replaced; a stray one of ours is', () =>
  withNs('clash', async ({ ns, net, store }) => {
    const sh = async (argv: string[]) => assert.is((await ns.sh(argv)).exitCode, 0, argv.join(' '));
    await sh(['ip', 'tuntap', 'add', 'dev', 'bgr-a1b2c3', 'mode', 'tap']);
    await sh(['ip', 'link', 'set', 'dev', 'bgr-a1b2c3', 'alias', 'banger:0123456789ab']);
    try {
      await net.setupVm(vmA);
      assert.unreachable();
    } catch (err) {
      assert.is((err as BangerError).code, 'E_NETWORK', String(err));
      assert.match((err as Error).message, 'another banger instance');
    }
    assert.is(
      (await ns.sh(['cat', '/sys/class/net/bgr-a1b2c3/ifalias'])).stdout.trim(),
      'banger:0123456789ab',
      'left alone',
    );
    assert.is(store.getLease(vmA.id), null, 'the fresh lease was given back');
    // Untagged and detached (a crash between creating and tagging): replaced.
    await sh(['ip', 'link', 'del', 'bgr-a1b2c3']);
    await sh(['ip', 'tuntap', 'add', 'dev', 'bgr-a1b2c3', 'mode', 'tap']);
    const v = await net.setupVm(vmA);
    assert.is((await link(ns, v.tap))!.master, 'banger0');
  }),
);

nsTest("two instances (own state, own bridge) in one host: neither sweeps, replaces nor removes the other's", () =>
  withNs('multi', async ({ ns, net }) => {
    const dir = mkdtempSync(join(tmpdir(), 'banger-net2-'));
    const store2 = new Store(join(dir, 'state.db'));
    try {
      const other = new HostNetwork({
        runner: ns.runner,
        store: store2,
        bridge: 'banger1',
        subnet: '172.30.1.0/24',
        uid: OWNER,
        nat: 'nft',
        tag: 'other-state-dir',
      });
      const a = await net.setupVm(vmA);
      const b = await other.setupVm(vmB);
      // Each engine's reconcile keeps only its own running VMs' TAPs.
      assert.equal(await other.sweepOrphanTaps(new Set([b.tap])), []);
      assert.equal(await net.sweepOrphanTaps(new Set([a.tap])), []);
      assert.ok(await link(ns, a.tap), "A's TAP survives B's sweep");
      assert.ok(await link(ns, b.tap), "B's TAP survives A's sweep");
      assert.equal(
        (await net.listOurTaps()).map((t) => t.name),
        [a.tap],
      );
      assert.equal(
        (await other.status()).taps.map((t) => t.name),
        [b.tap],
      );
      // Both NAT tables, each masquerading its own subnet.
      assert.ok(
        (await nftRules(ns, 'banger0'))!.some((r) => r.includes('172.30.0.0')),
        "A's NAT intact after B's ensureNat",
      );
      assert.ok((await nftRules(ns, 'banger1'))!.some((r) => r.includes('172.30.1.0')));
      await other.down();
      assert.is(await nftRules(ns, 'banger1'), null);
      assert.ok(await nftRules(ns, 'banger0'), "A's NAT survives B's down()");
      assert.ok(await link(ns, 'banger0'));
      assert.equal((await net.status()).nat.active, true);
    } finally {
      store2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }),
);

nsTest('a failure after the lease unwinds: fresh lease released, TAP gone', () =>
  withNs('undo', async ({ ns, mk, store }) => {
    // Fault injection at the last step: attaching the TAP to the bridge fails.
    const faulty: ProcessRunner = {
      ...ns.runner,
      isRoot: ns.runner.isRoot,
      run: (argv, opts) =>
        argv.includes('master')
          ? Promise.reject(new BangerError('E_COMMAND_FAILED', 'injected: cannot attach'))
          : ns.runner.run(argv, opts),
    };
    const net = mk({ runner: faulty });
    try {
      await net.setupVm(vmA);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, 'injected');
    }
    assert.is(store.getLease(vmA.id), null);
    assert.is(await link(ns, 'bgr-a1b2c3'), null);

    // With the caller's UndoStack the entries are the caller's to run.
    const good = mk();
    const undo = new UndoStack();
    const v = await good.setupVm(vmB, undo);
    assert.equal(undo.names(), [`release lease ${v.ip}`, `remove TAP ${v.tap}`]);
    await undo.unwind();
    assert.equal(undo.failures, []);
    assert.is(store.getLease(vmB.id), null);
    assert.is(await link(ns, v.tap), null);
  }),
);

nsTest('5 VMs set up concurrently: one bridge, 5 TAPs, unique addresses', () =>
  withNs('conc', async ({ ns, net }) => {
    const vms = [1, 2, 3, 4, 5].map((i) => ({ id: `${i}${i}${i}${i}${i}${i}aaaaaa`, name: `vm${i}` }));
    const res = await Promise.all(vms.map((v) => net.setupVm(v)));
    assert.is(new Set(res.map((r) => r.ip)).size, 5);
    for (const r of res) assert.is((await link(ns, r.tap))!.master, 'banger0');
    const s = await net.status();
    assert.is(s.taps.length, 5);
    assert.equal([s.bridgeExists, s.bridgeUp, s.bridgeHasGateway, s.nat.active], [true, true, true, true]);
    assert.is(s.leases.length, 5);
  }),
);

nsTest('not root and sudo would prompt: E_SUDO_REQUIRED naming the command, nothing created', () =>
  withNs('sudo', async ({ ns, store }) => {
    const dir = mkdtempSync(join(tmpdir(), 'banger-sudo-'));
    const fakeSudo = join(dir, 'sudo');
    // Behaves like `sudo -n` without a NOPASSWD rule.
    writeFileSync(fakeSudo, '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
    chmodSync(fakeSudo, 0o755);
    try {
      const runner = netnsRunner(ns.name, createRunner({ isRoot: false, sudo: fakeSudo }));
      const net = new HostNetwork({
        runner,
        store,
        bridge: 'banger0',
        subnet: '172.30.0.0/24',
        uid: OWNER,
        nat: 'nft',
      });
      try {
        await net.setupVm(vmA);
        assert.unreachable();
      } catch (err) {
        assert.is((err as BangerError).code, 'E_SUDO_REQUIRED', String(err));
        assert.match((err as Error).message, 'ip link add name banger0 type bridge');
      }
      assert.is(await link(ns, 'banger0'), null);
      assert.is(store.getLease(vmA.id), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }),
);

test.run();
