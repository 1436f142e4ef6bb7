// Issue 23, findings 4 and 5, as an attacker with a local account would try them: the policy
// is root's decision at `setup sudoers --apply`, never a copy of the user's config, and two
// users on one host (one entry point dir, one netns) get distinct bridges, subnets and DNS
// ports, and neither can touch the other's bridge or NAT table through the entry point.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from '../../app/priv/root/policy.js';
import { nftScript } from '../../app/engine/network/nat.js';
import { parseCidr, overlaps } from '../../app/engine/network/cidr.js';
import { runIf } from '../helpers/skip.js';
import { kvmStandIn, simGuestFiles, skipReason, TestUser, type Result } from './user-fixture.js';
import { reachableSim } from '../helpers/reachable.js';
import type { EngineStatus } from '../../app/contract/api.js';

const reason = skipReason();
interface Ctx {
  a: TestUser | null;
  b: TestUser | null;
}
const t = suite<Ctx>('policy network (issue 23: 4, 5)', { a: null, b: null });

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function policyOf(u: TestUser): Policy {
  return JSON.parse(readFileSync(join(u.privDir, 'users', `${u.user}.json`), 'utf8')) as Policy;
}

/** apply refused with E_UNSAFE_NETWORK naming the key; nothing installed for the user. */
async function refusedAt(u: TestUser, key: string, why: RegExp): Promise<void> {
  const r = await u.setup('--apply');
  assert.is.not(r.code, 0, `apply must fail: ${r.stdout}`);
  assert.match(r.stderr, new RegExp(`config ${key} in \\S+config\\.json`), r.stderr);
  assert.match(r.stderr, why, r.stderr);
  assert.match(r.stderr, /E_UNSAFE_NETWORK/, r.stderr);
  assert.not.ok(existsSync(join(u.privDir, 'users', `${u.user}.json`)), 'no policy written');
  assert.not.ok(existsSync(`/etc/sudoers.d/banger-${u.user}`), 'no sudoers rule');
}

t.before((ctx) => {
  if (reason) return;
  ctx.a = new TestUser({});
  ctx.b = new TestUser({}, ctx.a);
});

t.after((ctx) => {
  ctx.b?.cleanup();
  ctx.a?.cleanup();
});

const it = runIf(t as never, reason) as unknown as (name: string, fn: (ctx: Ctx) => Promise<void>) => void;

it('finding 4: a hostile config is refused at apply, naming the key, and nothing is installed', async ({ a }) => {
  const u = a!;
  // The attack: the host's own interface and its LAN as "the user's network".
  u.updateConfig({ bridge: 'eth0', subnet: '192.0.2.0/24' });
  await refusedAt(u, 'bridge', /"eth0" is not a banger bridge name/);
  u.updateConfig({ bridge: 'bangerok1', subnet: '192.0.2.0/24' });
  await refusedAt(u, 'subnet', /not a private range/);
  // A private range the host already has (apply looks at the host: here, the user's netns).
  u.inNs(['ip', 'link', 'add', 'lan0', 'type', 'bridge']);
  u.inNs(['ip', 'addr', 'add', '10.232.0.7/24', 'dev', 'lan0']);
  u.inNs(['ip', 'link', 'set', 'lan0', 'up']);
  u.updateConfig({ bridge: 'bangerok1', subnet: '10.232.0.0/25' });
  await refusedAt(u, 'subnet', /overlaps the host's 10\.232\.0\.0\/24 on lan0/);
  u.updateConfig({ bridge: 'banger0', subnet: '10.231.0.0/24' });
  await refusedAt(u, 'bridge', /root's engine's bridge/);
  u.updateConfig({ bridge: 'bangerok1', subnet: '172.30.0.0/23' });
  await refusedAt(u, 'subnet', /overlaps root's engine's subnet/);
  u.updateConfig({ bridge: 'bangerok1', subnet: '10.0.0.0/8' });
  await refusedAt(u, 'subnet', /a \/16 to a \/30/);
  // An existing interface that is not a bridge, even with banger's prefix.
  u.inNs(['ip', 'tuntap', 'add', 'dev', 'bangerdum0', 'mode', 'tap']);
  u.updateConfig({ bridge: 'bangerdum0', subnet: '10.231.0.0/24' });
  await refusedAt(u, 'bridge', /existing tun interface/);
  u.inNs(['ip', 'link', 'del', 'bangerdum0']);
  u.inNs(['ip', 'link', 'del', 'lan0']);
});

it('finding 4: a policy an older build copied from the config is not used at all', async ({ a }) => {
  const u = a!;
  u.updateConfig({ bridge: undefined, subnet: undefined });
  ok(await u.setup('--apply'), 'apply with a default config');
  // What today's build would have installed for {"bridge":"eth0","subnet":"192.0.2.0/24"}.
  const file = join(u.privDir, 'users', `${u.user}.json`);
  const good = readFileSync(file, 'utf8');
  const old = { ...policyOf(u), bridges: ['eth0'], subnets: ['192.0.2.0/24'] };
  const put = (text: string) => {
    writeFileSync(join(u.scratch, 'policy.json'), text);
    execFileSync('install', ['-o', 'root', '-g', 'root', '-m', '0644', join(u.scratch, 'policy.json'), file]);
  };
  // And what it installed for every user who configured nothing: root's own banger0.
  const { dnsPort: _drop, ...shared } = { ...policyOf(u), bridges: ['banger0'], subnets: ['172.30.0.0/24'] };
  void _drop;
  try {
    u.inNs(['ip', 'link', 'add', 'eth0', 'type', 'bridge']);
    const before = u.hostState();
    for (const [policy, calls] of [
      [
        old,
        [
          ['addr-add', 'eth0', '192.0.2.1/24'],
          ['link-del', 'eth0'],
        ],
      ],
      [shared, [['bridge-add', 'banger0']]],
    ] as const) {
      put(JSON.stringify(policy));
      for (const call of calls) {
        const r = await u.entryCall([...call]);
        assert.is(r.code, 2, `${call.join(' ')} refused: ${r.stderr}`);
        assert.match(r.stderr, /older banger .*re-run banger setup sudoers --apply/);
      }
    }
    assert.is(u.hostState(), before, 'nothing changed');
  } finally {
    put(good);
    u.inNs(['ip', 'link', 'del', 'eth0']);
  }
});

it('finding 5: two users with default configs get distinct bridges, subnets and DNS ports', async ({ a, b }) => {
  a!.updateConfig({ bridge: undefined, subnet: undefined });
  ok(await a!.setup('--apply'), 'apply A');
  ok(await b!.setup('--apply'), 'apply B');
  const pa = policyOf(a!);
  const pb = policyOf(b!);
  assert.equal(pa.bridges, [`banger${a!.uid}`]);
  assert.equal(pb.bridges, [`banger${b!.uid}`]);
  assert.is(pa.subnets.length, 1);
  assert.is(pb.subnets.length, 1);
  assert.not.ok(overlaps(parseCidr(pa.subnets[0]), parseCidr(pb.subnets[0])), `${pa.subnets} vs ${pb.subnets}`);
  assert.ok(pa.dnsPort && pb.dnsPort && pa.dnsPort !== pb.dnsPort, `ports ${pa.dnsPort} ${pb.dnsPort}`);
  // A second apply of the same user keeps what it chose (the engine keeps working).
  ok(await a!.setup('--apply'), 're-apply A');
  assert.equal(policyOf(a!), pa);
  // B cannot claim A's network by naming it.
  b!.updateConfig({ bridge: pa.bridges[0] });
  await b!.setup('--apply').then((r) => assert.match(r.stderr, /config bridge .*already \S+'s bridge/));
  b!.updateConfig({ bridge: undefined, subnet: pa.subnets[0] });
  await b!.setup('--apply').then((r) => assert.match(r.stderr, /config subnet .*overlaps \S+'s subnet/));
  b!.updateConfig({ subnet: undefined });
  assert.equal(policyOf(b!), pb, "B's policy is as it was");
});

it("finding 5: B's entry point calls cannot reach A's bridge or NAT table", async ({ a, b }) => {
  const pa = policyOf(a!);
  const br = pa.bridges[0];
  const subnet = parseCidr(pa.subnets[0]);
  const gw = pa.subnets[0].replace(/0\/24$/, '1/24');
  ok(await a!.entryCall(['bridge-add', br]), 'A: bridge-add');
  ok(await a!.entryCall(['addr-add', br, gw]), 'A: addr-add');
  ok(await a!.entryCall(['nft-apply'], nftScript(br, subnet, pa.dnsPort)), 'A: nft-apply with its DNS redirect');
  const before = a!.hostState();
  ok(await b!.entryCall(['tap-add', 'bgr-b00b00', String(b!.uid)]), 'B: its own TAP');
  const attacks: [string[], string?][] = [
    [['tap-attach', 'bgr-b00b00', 'banger:0123456789ab', br]],
    [['link-del', br]],
    [['link-up', br]],
    [['addr-add', br, gw]],
    [['nft-apply'], `table inet banger_${br}\ndelete table inet banger_${br}\n`],
    [['nft-apply'], nftScript(br, subnet)],
    // A's DNS redirect pointed at B's port (B would answer A's guests).
    [['nft-apply'], nftScript(policyOf(b!).bridges[0], parseCidr(policyOf(b!).subnets[0]), pa.dnsPort)],
  ];
  const mid = a!.hostState();
  for (const [call, input] of attacks) {
    const r = await b!.entryCall(call, input);
    assert.is(r.code, 2, `B: ${call.join(' ')} must be refused: ${r.stderr}`);
    assert.match(r.stderr, /E_PRIV_REFUSED/);
  }
  assert.is(a!.hostState(), mid, "A's bridge, address and table are as they were");
  assert.ok(before.length > 0);
  ok(await b!.entryCall(['link-del', 'bgr-b00b00']), 'B: its TAP goes');
});

it("a user's engine follows the network root chose; one started before the apply says to restart", async () => {
  const d = new TestUser({ firecrackerBin: reachableSim(), defaultBackend: 'firecracker', stopTimeoutMs: 2000 });
  try {
    d.updateConfig({ kvmPath: kvmStandIn(d) });
    const files = simGuestFiles(d);
    ok(await d.banger(['kernel', 'add', 'k', files.kernel]), 'kernel add');
    ok(await d.banger(['image', 'import', 'img', files.rootfs]), 'image import');
    ok(
      await d.banger(['vm', 'create', 'v', '--image', 'img', '--kernel', 'k']),
      'vm create (engine starts, no policy)',
    );
    ok(await d.setup('--apply'), 'apply');
    const p = policyOf(d);
    const early = await d.banger(['vm', 'start', 'v']);
    assert.is.not(early.code, 0, early.stdout);
    assert.match(early.stderr, new RegExp(`policy now gives you bridge ${p.bridges[0]}, .*banger engine stop`));
    ok(await d.banger(['engine', 'stop']), 'engine stop');
    ok(await d.banger(['vm', 'start', 'v']), 'vm start on the policy network');
    assert.match(d.inNs(['ip', '-4', '-br', 'addr', 'show', 'dev', p.bridges[0]]), /\/24/);
    const table = d.inNs(['nft', 'list', 'table', 'inet', `banger_${p.bridges[0]}`]);
    assert.match(table, new RegExp(`udp dport 53 redirect to :${p.dnsPort}`), table);
    const s = JSON.parse(ok(await d.banger(['status', '--json']), 'status').stdout) as EngineStatus;
    const gwl = s.dns.listeners.find((l) => l.port === p.dnsPort && l.address !== '127.0.0.1');
    assert.ok(gwl?.up, `guest listener up: ${JSON.stringify(s.dns.listeners)}`);
    assert.equal(
      s.settings?.filter((x) => x.source === 'policy').map((x) => x.key),
      ['dnsAddr', 'bridge', 'subnet'],
    );
    ok(await d.banger(['engine', 'stop', '--stop-vms', '--purge']), 'engine stop --purge');
  } finally {
    d.cleanup();
  }
});

t.run();
