// test-run: group host-users (each adds a host user, its sudoers drop-in and entry point: useradd/visudo take host-wide locks)
// banger as a normal user, proven by running it as one: a user made with useradd runs every
// command (runuser) inside a throwaway netns, with the Firecracker simulator. Without the
// sudoers drop-in a start fails with one line naming `banger setup sudoers` and changes
// nothing; `setup sudoers --apply` (run by root) installs the entry point and a drop-in that
// `sudo -l` shows as the only command; then create/start/stop/restart/rm work, the engine and
// VMMs run as the user, the user's files are theirs, and the entry point refuses everything
// outside banger's namespace without changing the host. --remove leaves no rule behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { runIf } from '../helpers/skip.js';
import { dirname, join } from 'node:path';
import type { EngineStatus, VmRecord } from '../../app/contract/api.js';
import { reachableSim } from '../helpers/reachable.js';
import { noRootBangerProcesses, ownedByUser, skipReason, TestUser, uidOf, type Result } from './user-fixture.js';

const BRIDGE = 'bangertb0';
const SUBNET = '172.31.91.0/24';
const reason = skipReason();
const t = suite<{ u: TestUser | null }>('real user', { u: null });

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const json = <T>(r: Result, what: string): T => JSON.parse(ok(r, what).stdout) as T;

t.before(async (ctx) => {
  if (process.env.PRIV_TEST_DEBUG) console.log('fixture start');
  if (reason) return;
  ctx.u = new TestUser({
    bridge: BRIDGE,
    subnet: SUBNET,
    dnsAddr: '127.0.0.1:15354',
    firecrackerBin: reachableSim(),
    defaultBackend: 'firecracker',
    stopTimeoutMs: 2000,
  });
  // The user's "/dev/kvm" (config kvmPath): a node they can open, as kvm group membership gives;
  // the simulator never opens it, so a stand-in file serves on hosts without KVM too.
  const kvm = join(ctx.u.scratch, 'kvm-stand-in');
  writeFileSync(kvm, '', { mode: 0o600 });
  chownSync(kvm, ctx.u.uid, ctx.u.gid);
  ctx.u.updateConfig({ kvmPath: kvm });
  // A kernel (the simulator only opens it) and a small ext4 image, readable by the user.
  const elf = Buffer.alloc(4096);
  elf.write('\x7fELF\x02\x01\x01\x00', 'latin1');
  writeFileSync(join(ctx.u.scratch, 'vmlinux'), elf);
  // A root tree banger knows how to customize (systemd flavour: no packages to fetch).
  const tree = join(ctx.u.scratch, 'tree');
  for (const d of ['lib/systemd', 'etc', 'root', 'sbin']) mkdirSync(join(tree, d), { recursive: true });
  writeFileSync(join(tree, 'lib/systemd/systemd'), '');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, join(ctx.u.scratch, 'rootfs.ext4'), '64M']);
});

t.after((ctx) => ctx.u?.cleanup());

const it = runIf(t as never, reason) as unknown as (
  name: string,
  fn: (ctx: { u: TestUser | null }) => Promise<void>,
) => void;

it('as the user, before any setup: kernel add and image import work (no privileges needed)', async ({ u }) => {
  ok(await u!.banger(['kernel', 'add', 'k', join(u!.scratch, 'vmlinux')]), 'kernel add');
  ok(await u!.banger(['image', 'import', 'img', join(u!.scratch, 'rootfs.ext4')]), 'image import');
  ok(await u!.banger(['vm', 'create', 'early', '--image', 'img', '--kernel', 'k']), 'vm create');
});

it('without the drop-in: vm start fails with one line naming banger setup sudoers, exit 2, nothing changed', async ({
  u,
}) => {
  const before = u!.hostState();
  const r = await u!.banger(['vm', 'start', 'early']);
  assert.is(r.code, 2, `exit 2\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], /banger setup sudoers/);
  assert.match(lines[0], /\[E_SUDO_REQUIRED\]$/);
  assert.is(u!.hostState(), before, 'no bridge, TAP, address or nft table appeared');
  const vm = json<VmRecord>(await u!.banger(['vm', 'show', 'early', '--json']), 'vm show');
  assert.is(vm.state, 'created', 'the record did not change');
  assert.is(vm.ip, null, 'no lease is held');
  assert.is(vm.lastError, null);
});

it('setup sudoers --apply: the entry point is root-owned, visudo-clean, and sudo -l lists only it', async ({ u }) => {
  const printed = ok(await u!.setup(null), 'setup sudoers (print)').stdout;
  assert.ok(printed.includes(`${u!.user} ALL=(root) NOPASSWD: ${u!.entry}`), printed);
  assert.not.ok(existsSync(u!.entry), 'printing installs nothing');
  ok(await u!.setup('--apply'), 'setup sudoers --apply');
  for (const p of [u!.privDir, u!.entry, join(u!.privDir, 'lib'), join(u!.privDir, 'users', `${u!.user}.json`)]) {
    const st = lstatSync(p);
    assert.is(st.uid, 0, `${p} is root's`);
    assert.is(st.mode & 0o022, 0, `${p} is not group/other-writable`);
  }
  const list = execFileSync('sudo', ['-l', '-U', u!.user], { encoding: 'utf8' });
  const cmds = list
    .slice(list.indexOf('may run the following commands'))
    .split('\n')
    .slice(1)
    .filter((l) => l.trim());
  assert.equal(
    cmds.map((l) => l.trim()),
    [`(root) NOPASSWD: ${u!.entry}`],
    list,
  );
  const doctor = json<{ checks: { name: string; ok: boolean; detail: string }[] }>(
    await u!.banger(['doctor', '--json']),
    'doctor',
  );
  const priv = doctor.checks.find((c) => c.name === 'privileges');
  assert.ok(priv?.ok, `doctor: ${JSON.stringify(priv)}`);
  // An entry point made from other sources (an older banger) is named outdated, by its stamp.
  const stamp = join(dirname(u!.entry), 'lib', 'source.sha256');
  const good = readFileSync(stamp, 'utf8');
  writeFileSync(stamp, `${'0'.repeat(64)}\n`);
  try {
    const old = json<{ checks: { name: string; ok: boolean; detail: string }[] }>(
      await u!.banger(['doctor', '--json']),
      'doctor',
    ).checks.find((c) => c.name === 'privileges');
    assert.not.ok(old?.ok);
    assert.match(old!.detail, /is older than this banger: run: banger setup sudoers --apply/);
  } finally {
    writeFileSync(stamp, good);
  }
});

it('with the drop-in: create, start, stop, start, restart and rm as the user; engine and VMM are the user', async ({
  u,
}) => {
  const vm = json<VmRecord>(
    await u!.banger(['vm', 'create', 'dev', '--image', 'img', '--kernel', 'k', '--start', '--json']),
    'vm create --start',
  );
  assert.is(vm.state, 'running');
  const status = json<EngineStatus>(await u!.banger(['status', '--json']), 'status');
  assert.is(uidOf(status.pid), u!.uid, 'the engine runs as the user');
  assert.is(uidOf(vm.pid!), u!.uid, 'Firecracker runs as the user (no sudo)');
  assert.is(u!.inNs(['cat', `/sys/class/net/${vm.tap}/owner`]).trim(), String(u!.uid), 'the TAP is the user’s');
  assert.match(u!.inNs(['ip', '-br', 'addr', 'show', 'dev', BRIDGE]), /172\.31\.91\.1\/24/);
  assert.match(u!.inNs(['nft', 'list', 'table', 'inet', `banger_${BRIDGE}`]), /masquerade/);
  const stopped = json<VmRecord>(await u!.banger(['vm', 'stop', 'dev', '--json']), 'vm stop');
  assert.is(stopped.state, 'stopped');
  assert.not.match(u!.inNs(['ip', '-br', 'link']), new RegExp(vm.tap!), 'the TAP went with the stop');
  const again = json<VmRecord>(await u!.banger(['vm', 'start', 'dev', '--json']), 'vm start');
  assert.is(again.state, 'running');
  const restarted = json<VmRecord>(await u!.banger(['vm', 'restart', 'dev', '--json']), 'vm restart');
  assert.is(restarted.state, 'running');
  assert.is(uidOf(restarted.pid!), u!.uid);
  assert.is(restarted.ip, vm.ip, 'the lease is sticky');
  noRootBangerProcesses(u!);
  ownedByUser(u!);
});

it('the entry point refuses what is not banger’s and changes nothing', async ({ u }) => {
  // Something real to protect: an "eth0", another user's TAP and a host nft table.
  u!.inNs(['ip', 'link', 'add', 'eth0', 'type', 'bridge']);
  u!.inNs(['ip', 'tuntap', 'add', 'dev', 'bgr-0a0a0a', 'mode', 'tap', 'user', '0']);
  u!.inNs(['nft', 'add', 'table', 'inet', 'filter']);
  const before = u!.hostState();
  const refused: [string[], string?][] = [
    [['link-del', 'eth0']],
    [['link-del', 'lo']],
    [['link-up', 'eth0']],
    [['bridge-add', 'docker0']],
    [['tap-add', 'vnet0', String(u!.uid)]],
    [['tap-add', 'bgr-123456', '0']],
    [['link-del', 'bgr-0a0a0a']],
    [['tap-attach', 'bgr-0a0a0a', 'banger:0123456789ab', BRIDGE]],
    [['addr-add', BRIDGE, '10.9.9.1/24']],
    [['addr-add', 'eth0', '172.31.91.1/24']],
    [['nft-apply'], 'table inet filter\ndelete table inet filter\n'],
    [
      ['nft-apply'],
      `table inet banger_${BRIDGE} {\n chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n  ip saddr 10.0.0.0/8 oifname != "${BRIDGE}" masquerade\n }\n}\n`,
    ],
    [
      ['nft-apply'],
      `table inet banger_${BRIDGE} {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n`,
    ],
    [['nft-list', 'filter']],
    [['iptables', '-A', 'filter', 'INPUT', '-j', 'DROP']],
    [['chown-sock', '/etc/passwd']],
    [['chown-sock', `${u!.home}/../../etc/shadow`]],
    [['kill', 'KILL', '1']],
    [['bridge-add', `${BRIDGE};reboot`]],
    [['link-del', '$(id)']],
    [['tap-add', 'bgr-abc`id`', String(u!.uid)]],
    [['link-del', 'bgr-123456 lo']],
    [['frobnicate']],
  ];
  for (const [args, input] of refused) {
    const r = await u!.entryCall(args, input);
    assert.is(r.code, 2, `${args.join(' ')} is refused (exit 2): ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^banger-priv: refused: .* \[E_PRIV_REFUSED\]\n$/, args.join(' '));
  }
  assert.is(u!.hostState(), before, 'links, addresses and the nft ruleset are exactly as before');
  assert.ok(lstatSync('/etc/passwd').uid === 0);
});

it('rm, then setup sudoers --remove: sudo -l lists nothing, the entry point is gone', async ({ u }) => {
  for (const vm of json<VmRecord[]>(await u!.banger(['vm', 'ls', '--json']), 'vm ls'))
    ok(await u!.banger(['vm', 'rm', vm.name, '--force']), `vm rm ${vm.name}`);
  ok(await u!.banger(['engine', 'stop', '--stop-vms', '--purge']), 'engine stop --purge');
  // (bgr-0a0a0a is root's, made by the refusal test: the user's engine must leave it alone.)
  const links = u!.inNs(['ip', '-br', 'link']);
  assert.not.match(links, new RegExp(`${BRIDGE}|bgr-(?!0a0a0a)`), `bridge and the user's TAPs gone:\n${links}`);
  assert.match(links, /bgr-0a0a0a/);
  ok(await u!.setup('--remove'), 'setup sudoers --remove');
  assert.not.ok(existsSync(u!.entry), 'the entry point is gone');
  assert.not.ok(existsSync(u!.privDir), 'its dir too');
  const list = execFileSync('sudo', ['-l', '-U', u!.user], { encoding: 'utf8' });
  assert.match(list, /is not allowed to run sudo/, list);
  const r = await u!.entryCall(['check']);
  assert.is.not(r.code, 0);
});

t.run();
