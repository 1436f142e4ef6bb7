// Real `ip` and `nft` inside a throwaway network namespace per test: nothing touches the root
// namespace. Skipped (with a note) when not root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../app/engine/store.js';
import { HostNetwork } from '../../../app/engine/network/host-network.js';
import { UndoStack } from '../../../app/engine/vm/undo.js';
import { BangerError } from '../../../app/errors.js';
import { createRunner, type ProcessRunner } from '../../../app/engine/process.js';
import { createNetns, netnsRunner, type Netns } from './netns.js';

const OWNER = 4321; // not our uid: proves the owner is what we asked for
const vmA = { id: 'a1b2c3d4e5f6a7b8', name: 'alpha' };
const vmB = { id: '0f0e0d0c0b0a0908', name: 'beta' };

interface Ctx { ns: Netns; store: Store; net: HostNetwork; mk(o?: { subnet?: string; runner?: ProcessRunner }): HostNetwork }

async function withNs(tag: string, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const ns = await createNetns(tag);
  if (!ns) return;
  const dir = mkdtempSync(join(tmpdir(), 'banger-net-'));
  const store = new Store(join(dir, 'state.db'));
  const mk = (o: { subnet?: string; runner?: ProcessRunner } = {}) => new HostNetwork({
    runner: o.runner ?? ns.runner, store, bridge: 'banger0', subnet: o.subnet ?? '172.30.0.0/24', uid: OWNER, nat: 'nft',
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

async function nftRules(ns: Netns): Promise<string[] | null> {
  const r = await ns.sh(['nft', '-j', 'list', 'table', 'inet', 'banger']);
  if (r.exitCode !== 0) return null;
  const items = (JSON.parse(r.stdout) as { nftables: { rule?: { chain: string; expr: unknown } }[] }).nftables;
  return items.flatMap((i) => (i.rule ? [`${i.rule.chain}: ${JSON.stringify(i.rule.expr)}`] : []));
}

test('setupVm: bridge with gateway, owned TAP on the bridge, NAT table, forwarding on', () => withNs('setup', async ({ ns, net }) => {
  const v = await net.setupVm(vmA);
  assert.equal({ tap: v.tap, ip: v.ip, gateway: v.gateway, netmask: v.netmask, prefix: v.prefix },
    { tap: 'bgr-a1b2c3', ip: '172.30.0.2', gateway: '172.30.0.1', netmask: '255.255.255.0', prefix: 24 });
  assert.is(v.ipArg, 'ip=172.30.0.2::172.30.0.1:255.255.255.0:alpha:eth0:off:172.30.0.1');
  assert.is(v.mac, net.macFor(vmA.id));

  const br = await link(ns, 'banger0');
  assert.ok(br, 'bridge exists');
  assert.is(br!.linkinfo?.info_kind, 'bridge');
  assert.ok(br!.flags.includes('UP'), 'bridge is up');
  const addrs = await jsonOf<Addr[]>(ns, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'banger0']);
  assert.equal(addrs[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`), ['172.30.0.1/24']);

  const tap = await link(ns, v.tap);
  assert.ok(tap, 'TAP exists');
  assert.is(tap!.linkinfo?.info_kind, 'tun');
  assert.is(tap!.master, 'banger0');
  assert.ok(tap!.flags.includes('UP'));
  assert.is((await ns.sh(['cat', `/sys/class/net/${v.tap}/owner`])).stdout.trim(), String(OWNER));
  const tunFlags = parseInt((await ns.sh(['cat', `/sys/class/net/${v.tap}/tun_flags`])).stdout.trim(), 16);
  assert.ok(tunFlags & 0x0002, 'IFF_TAP, not a TUN');

  const rules = await nftRules(ns);
  assert.ok(rules, 'table inet banger exists');
  assert.is(rules!.length, 3);
  assert.ok(rules!.some((r) => r.startsWith('postrouting:') && r.includes('masquerade') && r.includes('172.30.0.0') && r.includes('"!="')));
  assert.ok(rules!.some((r) => r.startsWith('forward:') && r.includes('established')));
  assert.is((await ns.sh(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');

  // Every change to the host asked for privileges (sudo -n when not root).
  const mutating = ns.calls.filter((c) => !c.argv.includes('show'));
  assert.ok(mutating.length >= 6);
  for (const c of mutating) assert.is(c.opts.privileged, true, c.argv.join(' '));
}));

test('idempotent: a second setup adds nothing; a deleted bridge is re-created', () => withNs('idem', async ({ ns, net, store }) => {
  const first = await net.setupVm(vmA);
  await net.ensureBridge();
  await net.ensureNat();
  const again = await net.setupVm(vmA);
  assert.is(again.ip, first.ip, 'sticky lease');
  assert.is((await nftRules(ns))!.length, 3, 'no duplicate rules');
  const addrs = await jsonOf<Addr[]>(ns, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'banger0']);
  assert.is(addrs[0].addr_info.length, 1);
  assert.is(store.listLeases().length, 1);

  await ns.sh(['ip', 'link', 'del', 'banger0']);
  assert.is(await link(ns, 'banger0'), null);
  const b = await net.setupVm(vmB);
  assert.ok(await link(ns, 'banger0'), 'bridge re-created');
  assert.is((await link(ns, b.tap))!.master, 'banger0');
  assert.is(b.ip, '172.30.0.3');
}));

test('teardown removes the TAP (twice is fine); the lease stays until released', () => withNs('teardown', async ({ ns, net }) => {
  const v = await net.setupVm(vmA);
  await net.teardownVm(vmA.id, v.tap);
  assert.is(await link(ns, v.tap), null);
  await net.teardownVm(vmA.id, null);
  assert.is(net.leaseFor(vmA.id)?.ip, '172.30.0.2');
  assert.is((await net.setupVm(vmA)).ip, '172.30.0.2');
  net.releaseLease(vmA.id);
  assert.is(net.leaseFor(vmA.id), null);
}));

test('down() removes the NAT table and the bridge; twice is fine', () => withNs('down', async ({ ns, net }) => {
  await net.setupVm(vmA);
  assert.ok(await nftRules(ns));
  await net.down();
  assert.is(await nftRules(ns), null);
  assert.is(await link(ns, 'banger0'), null);
  await net.down();
  const s = await net.status();
  assert.equal([s.bridgeExists, s.bridgeUp, s.nat.active], [false, false, false]);
}));

test('a subnet overlapping a route is refused with E_SUBNET_OVERLAP and changes nothing', () => withNs('overlap', async ({ ns, mk }) => {
  // No dummy module here: a veth pair is just as real a link with a connected route.
  for (const argv of [
    ['ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1'],
    ['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'lan0'],
    ['ip', 'link', 'set', 'lan0', 'up'], ['ip', 'link', 'set', 'lan1', 'up'],
  ]) assert.is((await ns.sh(argv)).exitCode, 0, argv.join(' '));
  const expectOverlap = async (net: HostNetwork, subnet: string, route: RegExp, dev: string) => {
    try { await net.setupVm(vmA); assert.unreachable('no overlap reported'); } catch (err) {
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
  for (const argv of [['ip', 'tuntap', 'add', 'dev', 'off0', 'mode', 'tap'], ['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'off0']]) {
    assert.is((await ns.sh(argv)).exitCode, 0, argv.join(' '));
  }
  await expectOverlap(mk({ subnet: '10.77.0.0/25' }), '10.77.0.0/25', /10\.77\.0\.1\/24/, 'off0');

  // A disjoint subnet next door is fine.
  const ok = await mk({ subnet: '10.98.0.0/24' }).setupVm(vmA);
  assert.is(ok.ip, '10.98.0.2');
}));

test('orphan sweep removes an unknown bgr-* TAP, keeps a known one and foreign TAPs', () => withNs('sweep', async ({ ns, net }) => {
  const known = await net.setupVm(vmA);
  await ns.sh(['ip', 'tuntap', 'add', 'dev', 'bgr-00ff00', 'mode', 'tap']);
  await ns.sh(['ip', 'tuntap', 'add', 'dev', 'tap7', 'mode', 'tap']);
  assert.equal((await net.listOurTaps()).map((t) => t.name).sort(), ['bgr-00ff00', known.tap].sort());
  const removed = await net.sweepOrphanTaps(new Set([known.tap]));
  assert.equal(removed, ['bgr-00ff00']);
  assert.is(await link(ns, 'bgr-00ff00'), null);
  assert.ok(await link(ns, known.tap));
  assert.ok(await link(ns, 'tap7'), 'not ours: untouched');
}));

test('a failure after the lease unwinds: fresh lease released, TAP gone', () => withNs('undo', async ({ ns, mk, store }) => {
  // Fault injection at the last step: attaching the TAP to the bridge fails.
  const faulty: ProcessRunner = {
    ...ns.runner,
    isRoot: ns.runner.isRoot,
    run: (argv, opts) => argv.includes('master')
      ? Promise.reject(new BangerError('E_COMMAND_FAILED', 'injected: cannot attach'))
      : ns.runner.run(argv, opts),
  };
  const net = mk({ runner: faulty });
  try { await net.setupVm(vmA); assert.unreachable(); } catch (err) { assert.match((err as Error).message, 'injected'); }
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
}));

test('5 VMs set up concurrently: one bridge, 5 TAPs, unique addresses', () => withNs('conc', async ({ ns, net }) => {
  const vms = [1, 2, 3, 4, 5].map((i) => ({ id: `${i}${i}${i}${i}${i}${i}aaaaaa`, name: `vm${i}` }));
  const res = await Promise.all(vms.map((v) => net.setupVm(v)));
  assert.is(new Set(res.map((r) => r.ip)).size, 5);
  for (const r of res) assert.is((await link(ns, r.tap))!.master, 'banger0');
  const s = await net.status();
  assert.is(s.taps.length, 5);
  assert.equal([s.bridgeExists, s.bridgeUp, s.bridgeHasGateway, s.nat.active], [true, true, true, true]);
  assert.is(s.leases.length, 5);
}));

test('not root and sudo would prompt: E_SUDO_REQUIRED naming the command, nothing created', () => withNs('sudo', async ({ ns, store }) => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-sudo-'));
  const fakeSudo = join(dir, 'sudo');
  // Behaves like `sudo -n` without a NOPASSWD rule.
  writeFileSync(fakeSudo, '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
  chmodSync(fakeSudo, 0o755);
  try {
    const runner = netnsRunner(ns.name, createRunner({ isRoot: false, sudo: fakeSudo }));
    const net = new HostNetwork({ runner, store, bridge: 'banger0', subnet: '172.30.0.0/24', uid: OWNER, nat: 'nft' });
    try { await net.setupVm(vmA); assert.unreachable(); } catch (err) {
      assert.is((err as BangerError).code, 'E_SUDO_REQUIRED', String(err));
      assert.match((err as Error).message, 'ip link add name banger0 type bridge');
    }
    assert.is(await link(ns, 'banger0'), null);
    assert.is(store.getLease(vmA.id), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}));

test.run();
