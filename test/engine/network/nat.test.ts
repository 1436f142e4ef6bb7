// NAT: the nft script, backend choice, idempotence with real nft/iptables in a namespace, and
// real traffic: a "guest" namespace reaches an "outside" namespace that has no route back,
// which only works when our masquerade is in place.
import { test } from 'uvu';
import { firstReason, NEEDS_ROOT, runIf } from '../../helpers/skip.js';
import * as assert from 'uvu/assert';
import { createRunner, which } from '../../../app/base/process.js';
import {
  detectNatBackend,
  ensureNat,
  natActive,
  nftScript,
  nftTableName,
  removeNat,
} from '../../../app/engine/network/nat.js';
import { ensureBridge } from '../../../app/engine/network/bridge.js';
import { parseCidr } from '../../../app/engine/network/cidr.js';
import { BangerError } from '../../../app/base/errors.js';
import { createNetns, type Netns } from './netns.js';

const nsTest = runIf(test, NEEDS_ROOT);

const subnet = parseCidr('172.30.0.0/24');

async function withNs(tag: string, fn: (ns: Netns) => Promise<void>): Promise<void> {
  const ns = await createNetns(tag);
  try {
    await fn(ns);
  } finally {
    await ns.destroy();
  }
}

test('nft script: replaces only our table, masquerades the subnet not towards the bridge', () => {
  const s = nftScript('banger0', subnet);
  const lines = s.split('\n');
  assert.equal(lines.slice(0, 3), [
    'table inet banger_banger0',
    'delete table inet banger_banger0',
    'table inet banger_banger0 {',
  ]);
  assert.match(s, 'ip saddr 172.30.0.0/24 oifname != "banger0" masquerade');
  assert.match(s, 'iifname "banger0" accept');
  assert.match(s, 'oifname "banger0" ct state established,related accept');
  assert.ok(
    s.indexOf('oifname "banger0" drop') > s.indexOf('established,related accept'),
    'new inbound connections are dropped, after the established ones are let through',
  );
  try {
    nftScript('br"; flush ruleset', subnet);
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_INVALID_ARGUMENT');
  }
});

test('table name: one per bridge, a valid nft identifier, distinct for names differing in . - _', () => {
  assert.is(nftTableName('banger0'), 'banger_banger0');
  const names = ['br-0', 'br_0', 'br.0'].map(nftTableName);
  for (const n of names) assert.match(n, /^banger_br_0(_[0-9a-f]{6})?$/);
  assert.is(new Set(names).size, 3);
  assert.is(nftTableName('br-0'), nftTableName('br-0'), 'stable');
  try {
    nftTableName('a b');
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_INVALID_ARGUMENT');
  }
});

test('backend: nft when present, iptables only as fallback, neither is E_NETWORK', () => {
  assert.is(
    detectNatBackend((b) => (b === 'nft' || b === 'iptables' ? `/usr/sbin/${b}` : null)),
    'nft',
  );
  assert.is(
    detectNatBackend((b) => (b === 'iptables' ? '/usr/sbin/iptables' : null)),
    'iptables',
  );
  try {
    detectNatBackend(() => null);
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_NETWORK');
  }
});

nsTest('nft: ensure twice gives one table of 4 rules; a new subnet replaces the old; remove twice', () =>
  withNs('nft', async (ns) => {
    const count = async () => {
      const r = await ns.sh(['nft', '-j', 'list', 'table', 'inet', 'banger_banger0']);
      if (r.exitCode !== 0) return null;
      return (JSON.parse(r.stdout).nftables as { rule?: unknown }[]).filter((i) => i.rule).length;
    };
    await ensureNat(ns.runner, 'nft', 'banger0', subnet);
    await ensureNat(ns.runner, 'nft', 'banger0', subnet);
    assert.is(await count(), 4);
    assert.is(await natActive(ns.runner, 'nft', 'banger0', subnet), true);
    await ensureNat(ns.runner, 'nft', 'banger0', parseCidr('10.42.0.0/24'));
    const listed = (await ns.sh(['nft', 'list', 'table', 'inet', 'banger_banger0'])).stdout;
    assert.match(listed, '10.42.0.0/24');
    assert.not.match(listed, '172.30.0.0/24');
    assert.is(await count(), 4);
    await removeNat(ns.runner, 'nft', 'banger0', subnet);
    assert.is(await count(), null);
    assert.is(await natActive(ns.runner, 'nft', 'banger0', subnet), false);
    await removeNat(ns.runner, 'nft', 'banger0', subnet);
  }),
);

nsTest('nft: two bridges get two tables; removing one leaves the other; a bridge with - in its name works', () =>
  withNs('nft2', async (ns) => {
    const tables = async () =>
      (await ns.sh(['nft', 'list', 'tables'])).stdout.trim().split('\n').filter(Boolean).sort();
    await ensureNat(ns.runner, 'nft', 'banger0', subnet);
    await ensureNat(ns.runner, 'nft', 'br-1', parseCidr('10.42.0.0/24'));
    assert.equal(await tables(), ['table inet banger_banger0', `table inet ${nftTableName('br-1')}`].sort());
    assert.match(
      (await ns.sh(['nft', 'list', 'table', 'inet', 'banger_banger0'])).stdout,
      '172.30.0.0/24',
      'not replaced by the other',
    );
    assert.is(await natActive(ns.runner, 'nft', 'br-1', subnet), true);
    await removeNat(ns.runner, 'nft', 'br-1', subnet);
    assert.equal(await tables(), ['table inet banger_banger0']);
    assert.is(await natActive(ns.runner, 'nft', 'banger0', subnet), true);
  }),
);

nsTest("nft: an older build's shared `inet banger` table is removed only when it is for our bridge", () =>
  withNs('legacy', async (ns) => {
    const legacy = (bridge: string) => nftScript(bridge, subnet).replaceAll(nftTableName(bridge), 'banger');
    const has = async () => (await ns.sh(['nft', 'list', 'table', 'inet', 'banger'])).exitCode === 0;
    await ns.runner.run(['nft', '-f', '-'], { input: legacy('otherbr') });
    await ensureNat(ns.runner, 'nft', 'banger0', subnet);
    assert.ok(await has(), "another bridge's: kept");
    await ns.runner.run(['nft', '-f', '-'], { input: legacy('banger0') });
    await ensureNat(ns.runner, 'nft', 'banger0', subnet);
    assert.not.ok(await has(), 'ours: replaced by banger_banger0');
    await ns.runner.run(['nft', '-f', '-'], { input: legacy('banger0') });
    await removeNat(ns.runner, 'nft', 'banger0', subnet);
    assert.not.ok(await has(), 'removed on down too');
  }),
);

const iptTest = runIf(
  test,
  firstReason(NEEDS_ROOT, which('iptables', `${process.env.PATH}:/usr/sbin:/sbin`) ? null : 'missing iptables'),
);

iptTest('iptables fallback: rules added once, removed completely', async () => {
  await withNs('ipt', async (ns) => {
    const rules = async (table: string) =>
      (await ns.sh(['iptables', '-t', table, '-S'])).stdout.split('\n').filter((l) => l.includes('banger'));
    await ensureNat(ns.runner, 'iptables', 'banger0', subnet);
    await ensureNat(ns.runner, 'iptables', 'banger0', subnet);
    const nat = await rules('nat');
    assert.is(nat.length, 1);
    assert.match(nat[0], /-A POSTROUTING -s 172\.30\.0\.0\/24 ! -o banger0 .*-j MASQUERADE/);
    const filter = await rules('filter');
    assert.is(filter.length, 3);
    assert.match(filter[2], /-A FORWARD -o banger0 .*-j DROP/, 'the drop comes after the established accept');
    assert.is(await natActive(ns.runner, 'iptables', 'banger0', subnet), true);
    await removeNat(ns.runner, 'iptables', 'banger0', subnet);
    assert.equal(await rules('nat'), []);
    assert.equal(await rules('filter'), []);
    assert.is(await natActive(ns.runner, 'iptables', 'banger0', subnet), false);
  });
});

nsTest('traffic: a guest reaches an outside host with no route back only through our NAT', () =>
  withNs('traffic', async (ns) => {
    const base = createRunner();
    const guest = `${ns.name}-g`.slice(0, 40);
    const outside = `${ns.name}-o`.slice(0, 40);
    const must = (argv: string[]) => base.run(['ip', 'netns', 'exec', ns.name, ...argv]);
    const inNs = (n: string, argv: string[]) => base.run(['ip', 'netns', 'exec', n, ...argv]);
    const ping = async () =>
      (
        await base.run(['ip', 'netns', 'exec', guest, 'busybox', 'ping', '-c', '1', '-W', '1', '198.51.100.1'], {
          reject: false,
        })
      ).exitCode;
    try {
      await base.run(['ip', 'netns', 'add', guest]);
      await base.run(['ip', 'netns', 'add', outside]);
      await ensureBridge(ns.runner, 'banger0', subnet);
      // The guest: a veth on the bridge instead of a TAP (no VMM here), default route via the gateway.
      await must(['ip', 'link', 'add', 'vg0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guest]);
      await must(['ip', 'link', 'set', 'vg0', 'master', 'banger0', 'up']);
      await inNs(guest, ['ip', 'addr', 'add', '172.30.0.2/24', 'dev', 'eth0']);
      await inNs(guest, ['ip', 'link', 'set', 'eth0', 'up']);
      await inNs(guest, ['ip', 'route', 'add', 'default', 'via', '172.30.0.1']);
      // The outside world: a documentation prefix, and no route to 172.30.0.0/24.
      await must(['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1', 'netns', outside]);
      await must(['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'up0']);
      await must(['ip', 'link', 'set', 'up0', 'up']);
      await inNs(outside, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'up1']);
      await inNs(outside, ['ip', 'link', 'set', 'up1', 'up']);
      await must(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);

      assert.is.not(await ping(), 0, 'without NAT the reply has no way back');
      await ensureNat(ns.runner, 'nft', 'banger0', subnet);
      assert.is(await ping(), 0, 'masqueraded: reply comes back');

      // A LAN host that routes the VM subnet through us must not open connections to a guest.
      await inNs(outside, ['ip', 'route', 'add', '172.30.0.0/24', 'via', '198.51.100.2']);
      const inbound = async () =>
        (
          await base.run(['ip', 'netns', 'exec', outside, 'busybox', 'ping', '-c', '1', '-W', '1', '172.30.0.2'], {
            reject: false,
          })
        ).exitCode;
      assert.is.not(await inbound(), 0, 'a new inbound connection to the guest is dropped');
      assert.is(await ping(), 0, "the guest's own connections still get their replies");
      await removeNat(ns.runner, 'nft', 'banger0', subnet);
      assert.is(await inbound(), 0, 'control: without our table the same packet gets through');
    } finally {
      await base.run(['ip', 'netns', 'delete', guest], { reject: false });
      await base.run(['ip', 'netns', 'delete', outside], { reject: false });
    }
  }),
);

test.run();
