// The entry point's verbs against what the engine really issues: every privileged command of
// the network code maps to a verb (verbFor) that the entry point turns back into exactly that
// command, the NAT script and iptables rules nat.ts writes are accepted, and what lies
// outside the user's policy is refused before anything runs.
import { test } from 'uvu';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { ProcessRunner, RunOptions, RunResult } from '../../app/base/process.js';
import { nftRemoveScript, nftScript, nftTableName, iptablesRules as natRules } from '../../app/engine/network/nat.js';
import { parseCidr } from '../../app/engine/network/cidr.js';
import { ensureBridge } from '../../app/engine/network/bridge.js';
import { createTap } from '../../app/engine/network/tap.js';
import { ensureNat, removeNat } from '../../app/engine/network/nat.js';
import { verbFor } from '../../app/base/priv-argv.js';
import { jailerArgv } from '../../app/engine/firecracker/jailer.js';
import { checkNftScript, iptablesRules, nftTableName as privTable, plan } from '../../app/priv/root/verbs.js';
import { Refusal, type Policy } from '../../app/priv/root/policy.js';

const policy: Policy = {
  user: 'alice',
  uid: 1234,
  gid: 1234,
  bridges: ['banger0', 'br-x.1'],
  subnets: ['172.30.0.0/24'],
  dirs: ['/nonexistent/alice/state'],
};
const SUBNET = parseCidr('172.30.0.0/24');
/** A sysfs where the test's TAP exists and is alice's (the entry point reads its owner there). */
const SYSFS = mkdtempSync(join(tmpdir(), 'verbs-sysfs-'));
mkdirSync(join(SYSFS, 'bgr-abcdef'));
writeFileSync(join(SYSFS, 'bgr-abcdef', 'owner'), '1234\n');

/** Records every privileged command; reads answer "nothing there yet". */
function recorder(): { runner: ProcessRunner; calls: { argv: string[]; input?: string }[] } {
  const calls: { argv: string[]; input?: string }[] = [];
  const runner: ProcessRunner = {
    isRoot: false,
    async run(argv: string[], o: RunOptions = {}): Promise<RunResult> {
      if (o.privileged) calls.push({ argv, input: typeof o.input === 'string' ? o.input : undefined });
      if (argv[0] === 'ip' && argv.includes('show'))
        return { argv, stdout: '[]', stderr: 'Device "x" does not exist.', exitCode: o.privileged ? 0 : 1 };
      // iptables -C: the rule is not there yet, so it gets appended.
      return { argv, stdout: '', stderr: '', exitCode: argv[0] === 'iptables' && argv.includes('-C') ? 1 : 0 };
    },
    spawn: () => {
      throw new Error('no spawn here');
    },
    interactive: async () => 0,
  };
  return { runner, calls };
}

test('every privileged command of the network code round-trips through a verb to the same argv', async () => {
  const { runner, calls } = recorder();
  await ensureBridge(runner, 'banger0', SUBNET).catch(() => undefined);
  await createTap(runner, 'bgr-abcdef', { tag: '0123456789ab', bridge: 'banger0' }, 1234);
  await ensureNat(runner, 'nft', 'banger0', SUBNET);
  await removeNat(runner, 'nft', 'banger0', SUBNET);
  await ensureNat(runner, 'iptables', 'banger0', SUBNET);
  await removeNat(runner, 'iptables', 'banger0', SUBNET);
  assert.ok(calls.length >= 10, `saw ${calls.length} privileged commands`);
  for (const c of calls) {
    const verb = verbFor(c.argv);
    assert.ok(verb, `a verb stands for ${c.argv.join(' ')}`);
    let actions = plan(policy, verb![0], verb!.slice(1), c.input, { sysfs: SYSFS, dir: SYSFS });
    // ip-forward 1 first records the value it found (a root-side change of its own).
    if (verb![0] === 'ip-forward') actions = actions.filter((a) => !('run' in a));
    assert.equal(actions, [{ argv: c.argv, ...(c.input !== undefined ? { input: c.input } : {}) }], c.argv.join(' '));
  }
});

test("nat.ts's table names, scripts and iptables rules are the ones the entry point accepts", () => {
  for (const b of ['banger0', 'br-x.1', 'a_b']) assert.is(privTable(b), nftTableName(b), b);
  checkNftScript(policy, nftScript('banger0', SUBNET));
  checkNftScript(policy, nftScript('br-x.1', SUBNET));
  checkNftScript(policy, nftRemoveScript('banger0'));
  const mine = iptablesRules('banger0', '172.30.0.0/24').map((r) => r.join(' '));
  for (const r of natRules('banger0', SUBNET)) assert.ok(mine.includes(r.join(' ')), r.join(' '));
});

test('refused: other subnets, other bridges, other tables, mixed bridges, other statements', () => {
  const refuses = (fn: () => unknown, what: string) => assert.throws(fn, (e: unknown) => e instanceof Refusal, what);
  refuses(() => checkNftScript(policy, nftScript('banger0', parseCidr('10.0.0.0/8'))), 'another subnet');
  refuses(() => checkNftScript(policy, nftScript('eth0', SUBNET)), 'another bridge');
  refuses(() => checkNftScript(policy, 'table inet filter\ndelete table inet filter\n'), 'another table');
  refuses(
    () => checkNftScript(policy, nftScript('banger0', SUBNET).replace('iifname "banger0"', 'iifname "br-x.1"')),
    'two bridges in one script',
  );
  refuses(
    () => checkNftScript(policy, nftScript('banger0', SUBNET).replace('policy accept;', 'policy drop;')),
    'a drop policy',
  );
  refuses(() => plan(policy, 'bridge-add', ['banger0', 'extra']), 'arity');
  refuses(() => plan(policy, 'bridge-add', ['banger0\n']), 'newline');
  refuses(() => plan(policy, 'addr-add', ['banger0', '172.30.0.2/24']), 'not the gateway');
  refuses(() => plan(policy, 'ip-forward', ['2']), 'ip-forward 2');
  refuses(() => plan(policy, 'iptables', ['-I', 'filter', 'FORWARD', '-j', 'ACCEPT']), 'iptables -I');
  refuses(() => plan(policy, 'nft-delete', ['banger_banger0']), 'only the legacy table is deleted directly');
  refuses(() => plan(policy, 'chown-sock', ['/etc/../etc/passwd']), '..');
  refuses(() => plan(policy, 'sh', ['-c', 'id']), 'unknown verb');
});

test('a Firecracker launch maps to the firecracker verb; nothing else outside the table has one', () => {
  const fc = ['/usr/bin/firecracker', '--api-sock', '/x/api.sock', '--id', 'abc'];
  assert.equal(verbFor(fc), ['firecracker', ...fc]);
  assert.is(verbFor(['firecracker', '--api-sock', '/x/api.sock']), null, 'a bare name: not what the policy fixes');
  assert.is(verbFor(['/bin/sh', '--api-sock', '/x/api.sock']), null, 'not a firecracker binary');
  const jail = jailerArgv({
    jailerBin: '/usr/bin/jailer',
    firecrackerBin: '/usr/bin/firecracker',
    id: 'abc',
    uid: 1,
    gid: 1,
    chrootBase: '/srv/jailer/banger-alice',
  });
  assert.equal(verbFor(jail), ['jailer', ...jail], "jailer.ts's argv goes to the jailer verb");
  assert.equal(verbFor(['rm', '-rf', '--one-file-system', '--', '/srv/j/firecracker/abc']), [
    'jail-rm',
    '/srv/j/firecracker/abc',
  ]);
  assert.is(verbFor(['rm', '-rf', '/']), null);
  assert.is(verbFor(['sh', '-c', 'id']), null);
  assert.is(verbFor(['ip', 'link', 'set', 'dev', 'x', 'down']), null);
});

test("a normal user's debian build goes to the debootstrap-image verb (it went to sudo bare and was refused)", () => {
  const argv = ['debootstrap-image', 'bookworm', 'http://deb.debian.org/debian', 'udev', '/home/a/x.ext4'];
  assert.equal(verbFor(argv), argv);
  assert.is(verbFor(argv.slice(0, 4)), null, 'its four arguments or none');
});

test.after(() => rmSync(SYSFS, { recursive: true, force: true }));

test.run();
