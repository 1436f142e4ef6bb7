// The pure parts behind issue 23 findings 4, 5, 8 and 9: root's network decision, the DNS
// redirect the entry point accepts (and what it refuses), who holds a port, where the host
// resolver points, and the engine's defaults from its policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { decideNetwork, defaultBridge, otherPolicies, type Taken } from '../../app/priv/policy-network.js';
import { checkNftScript, iptablesRules as privRules, plan } from '../../app/priv/root/verbs.js';
import { isPrivate4, Refusal, type Policy } from '../../app/priv/root/policy.js';
import { iptablesRules as natRules, nftScript } from '../../app/engine/network/nat.js';
import { looseCidr, parseCidr } from '../../app/engine/network/cidr.js';
import { portHolder } from '../../app/dns/port-holder.js';
import { wiredTarget } from '../../app/dns/setup.js';
import { assertPolicyUnchanged, withPolicyNetwork } from '../../app/engine/network/policy-defaults.js';
import { DEFAULT_CONFIG } from '../../app/engine/config.js';
import { BangerError } from '../../app/base/errors.js';

const empty: Taken = { links: [], prefixes: [], others: [] };
const FILE = '/home/u/.config/banger/config.json';

function unsafe(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, 'E_UNSAFE_NETWORK');
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`expected E_UNSAFE_NETWORK ${re}`);
}

test('a user who set nothing gets banger<uid>, a /24 of 172.30/16 that is not root’s, a port of their own', () => {
  const n = decideNetwork(1000, {}, FILE, empty);
  assert.equal(n, {
    bridge: 'banger1000',
    subnet: `172.30.${1 + (1000 % 255)}.0/24`,
    dnsPort: 42069 + 1 + (1000 % 1000),
  });
  assert.is(defaultBridge(4_000_000_000), 'bangerxee6b2800');
  // uid 255 would land on index 0 (root's): it never does.
  assert.is.not(decideNetwork(255, {}, FILE, empty).subnet, '172.30.0.0/24');
});

test('derived choices step past the host’s routes and other users’ policies', () => {
  const first = decideNetwork(1000, {}, FILE, empty);
  const taken: Taken = {
    links: [],
    prefixes: [{ prefix: first.subnet, dev: 'eth1', cidr: parseCidr(first.subnet) }],
    others: [{ user: 'bob', bridges: ['banger1001'], subnets: ['172.30.237.0/24'], dnsPort: first.dnsPort }],
  };
  const n = decideNetwork(1000, {}, FILE, taken);
  assert.is.not(n.subnet, first.subnet);
  assert.is.not(n.subnet, '172.30.237.0/24');
  assert.is.not(n.dnsPort, first.dnsPort);
});

test('explicit settings are validated and refused naming the key', () => {
  unsafe(
    () => decideNetwork(1000, { bridge: 'eth0' }, FILE, empty),
    /^config bridge in .*"eth0" is not a banger bridge/,
  );
  unsafe(() => decideNetwork(1000, { bridge: 'banger0' }, FILE, empty), /root's engine's bridge/);
  unsafe(() => decideNetwork(1000, { subnet: '192.0.2.0/24' }, FILE, empty), /^config subnet .*not a private range/);
  unsafe(() => decideNetwork(1000, { subnet: '8.8.8.0/24' }, FILE, empty), /not a private range/);
  unsafe(() => decideNetwork(1000, { subnet: '10.1.0.1/24' }, FILE, empty), /host bits/);
  unsafe(() => decideNetwork(1000, { subnet: '172.30.0.128/25' }, FILE, empty), /root's engine's subnet/);
  const host: Taken = {
    links: [{ name: 'bangerx', up: true, operstate: 'UP', kind: 'veth', master: null, alias: null }],
    prefixes: [{ prefix: '10.8.0.0/16', dev: 'wg0', cidr: looseCidr('10.8.0.0/16') }],
    others: [{ user: 'bob', bridges: ['bangerbob'], subnets: ['192.168.77.0/24'] }],
  };
  unsafe(() => decideNetwork(1000, { bridge: 'bangerx' }, FILE, host), /existing veth interface/);
  unsafe(() => decideNetwork(1000, { bridge: 'bangerbob' }, FILE, host), /already bob's bridge/);
  unsafe(
    () => decideNetwork(1000, { subnet: '10.8.3.0/24' }, FILE, host),
    /overlaps the host's 10\.8\.0\.0\/16 on wg0/,
  );
  unsafe(() => decideNetwork(1000, { subnet: '192.168.0.0/16' }, FILE, host), /overlaps bob's subnet/);
  assert.equal(decideNetwork(1000, { bridge: 'bangerlab', subnet: '10.9.0.0/24' }, FILE, host).subnet, '10.9.0.0/24');
});

test("other users' policies are read; one that cannot be read stops the apply (skipping it could share its network)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'privdir-'));
  mkdirSync(join(dir, 'users'));
  writeFileSync(
    join(dir, 'users', 'bob.json'),
    JSON.stringify({ user: 'bob', bridges: ['bangerb'], subnets: ['10.5.0.0/24'], dnsPort: 42999 }),
  );
  writeFileSync(join(dir, 'users', 'me.json'), '{');
  assert.equal(otherPolicies(dir, 'me'), [
    { user: 'bob', bridges: ['bangerb'], subnets: ['10.5.0.0/24'], dnsPort: 42999 },
  ]);
  writeFileSync(join(dir, 'users', 'carol.json'), '{ not json');
  assert.throws(() => otherPolicies(dir, 'me'), /cannot read .*carol\.json/);
  assert.equal(otherPolicies(join(dir, 'nope'), 'me'), []);
});

test('private ranges', () => {
  for (const s of ['10.0.0.0/24', '172.16.0.0/24', '172.31.255.0/24', '192.168.1.0/24']) assert.ok(isPrivate4(s), s);
  for (const s of ['172.32.0.0/24', '192.0.2.0/24', '100.64.0.0/24', '11.0.0.0/24', '172.0.0.0/8'])
    assert.not.ok(isPrivate4(s), s);
});

const policy: Policy = {
  user: 'alice',
  uid: 1234,
  gid: 1234,
  bridges: ['banger1234'],
  subnets: ['172.30.9.0/24'],
  dirs: [],
  dnsPort: 43000,
};
const SUBNET = parseCidr('172.30.9.0/24');

function refused(script: string, re: RegExp): void {
  try {
    checkNftScript(policy, script);
  } catch (err) {
    assert.instance(err, Refusal);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`accepted: ${script}`);
}

test('the entry point accepts the DNS redirect to the policy’s port, and only that', () => {
  checkNftScript(policy, nftScript('banger1234', SUBNET, 43000));
  const good = nftScript('banger1234', SUBNET, 43000);
  refused(good.replaceAll(':43000', ':22'), /policy allows 43000/);
  refused(good.replaceAll('172.30.9.1', '172.30.8.1'), /not the gateway/);
  refused(good.replace('dport 53 redirect', 'dport 22 redirect'), /not allowed/);
  refused(good.replace('iifname "banger1234" ip daddr', 'iifname "eth0" ip daddr'), /not a bridge configured/);
  refused(good.replace('redirect to :43000', 'dnat to 10.0.0.1:53'), /not allowed/);
  refused(good.replace('priority dstnat', 'priority dstnat; policy drop;'), /not allowed/);
  const noPort = { ...policy, dnsPort: undefined };
  assert.throws(() => checkNftScript(noPort, good), /allows none/);
});

test('without nft: the same redirect as iptables rules, accepted for the policy’s port only', () => {
  const mine = privRules('banger1234', '172.30.9.0/24', 43000).map((r) => r.join(' '));
  const engine = natRules('banger1234', SUBNET, 43000);
  assert.is(engine.length, 6);
  for (const r of engine) assert.ok(mine.includes(r.join(' ')), r.join(' '));
  const [table, chain, ...rule] = natRules('banger1234', SUBNET, 43000)[4];
  assert.is(plan(policy, 'iptables', ['-A', table, chain, ...rule]).length, 1);
  const [t2, c2, ...other] = natRules('banger1234', SUBNET, 22)[4];
  assert.throws(() => plan(policy, 'iptables', ['-A', t2, c2, ...other]), /not allowed/);
});

test('who holds a port, from the kernel’s socket tables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procnet-'));
  const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  // 127.0.0.1:42070 (0xA456) by uid 1002; a TCP socket on the same port that only connects.
  writeFileSync(
    join(dir, 'udp'),
    head + '  1: 0100007F:A456 00000000:0000 07 00000000:00000000 00:00000000 00000000  1002        0 1 2\n',
  );
  writeFileSync(
    join(dir, 'tcp'),
    head + '  1: 0100007F:A457 0100007F:0050 01 00000000:00000000 00:00000000 00000000  1003        0 1 2\n',
  );
  const passwd = 'root:x:0:0::/root:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n';
  assert.equal(portHolder('127.0.0.1', 42070, { procNet: dir, passwd }), { uid: 1002, user: 'bob', proto: 'udp' });
  assert.is(portHolder('127.0.0.1', 42071, { procNet: dir, passwd }), null, 'a connected TCP socket holds nothing');
  assert.is(portHolder('127.0.0.2', 42070, { procNet: dir, passwd }), null);
  writeFileSync(
    join(dir, 'udp6'),
    head +
      '  1: 00000000000000000000000000000000:A458 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  7 0 1 2\n',
  );
  assert.equal(portHolder('127.0.0.1', 42072, { procNet: dir, passwd }), { uid: 7, user: null, proto: 'udp' });
});

test('where dns setup --apply sent the host resolver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resolved-'));
  const f = join(dir, 'banger.conf');
  assert.is(wiredTarget(f), null);
  writeFileSync(f, '# Written by banger\n[Resolve]\nDNS=127.0.0.1:42071\nDomains=~vm\n');
  assert.equal(wiredTarget(f), { address: '127.0.0.1', port: 42071 });
  writeFileSync(f, '[Resolve]\nDNS=[::1]:5353\n');
  assert.equal(wiredTarget(f), { address: '::1', port: 5353 });
});

test('a normal user’s engine takes bridge, subnet and DNS port from its policy unless set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'privdir-'));
  const me = userInfo().username;
  writeFileSync(join(dir, 'banger-priv'), '');
  mkdirSync(join(dir, 'users'));
  writeFileSync(join(dir, 'users', `${me}.json`), JSON.stringify({ ...policy, user: me }));
  const env = { BANGER_PRIV_DIR: dir };
  const p = withPolicyNetwork(DEFAULT_CONFIG, {}, env, false);
  assert.is(p.config.bridge, 'banger1234');
  assert.is(p.config.subnet, '172.30.9.0/24');
  assert.is(p.config.dnsAddr, '127.0.0.1:43000');
  assert.is(p.guestDnsPort, 43000);
  assert.equal(p.sources, { bridge: 'policy', subnet: 'policy', dnsAddr: 'policy' });
  const set = withPolicyNetwork({ ...DEFAULT_CONFIG, dnsAddr: '127.0.0.1:5300' }, { dnsAddr: 'config' }, env, false);
  assert.is(set.config.dnsAddr, '127.0.0.1:5300', 'a setting the user made wins');
  assert.is(set.guestDnsPort, 43000, 'the guest port is always the policy’s (the redirect goes there)');
  assert.is(withPolicyNetwork(DEFAULT_CONFIG, {}, env, true).config.bridge, 'banger0', 'root has no policy');
});

test('an engine started before root applied a new network says to restart, instead of being refused', () => {
  const started = withPolicyNetwork(DEFAULT_CONFIG, {}, {}, false);
  const now = { ...started, config: { ...started.config, bridge: 'banger1234', subnet: '172.30.9.0/24' } };
  assert.not.throws(() => assertPolicyUnchanged(started, started));
  assert.not.throws(() => assertPolicyUnchanged(started, { ...started, guestDnsPort: 43000 }), 'a DNS port alone');
  assert.throws(
    () => assertPolicyUnchanged(started, now),
    /now gives you bridge banger1234, subnet 172\.30\.9\.0\/24, but this engine started with bridge banger0.*banger engine stop/,
  );
});

test.run();
