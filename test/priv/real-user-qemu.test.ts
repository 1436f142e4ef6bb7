// test-run: group host-users guest-b (boots a QEMU guest under TCG, one per lane; each adds a host user, its sudoers drop-in and entry point: useradd/visudo take host-wide locks)
// A real QEMU guest run by a normal user: a user made with useradd builds the busybox image
// and fetches the kernel (offline, from .debs copied into their own cache), and with the
// sudoers drop-in boots a guest inside a throwaway netns; it answers SSH and NAME.vm, vm exec
// and vm cp work as the user (exec-checks.ts), QEMU and the engine run as the user, the
// user's files are theirs; their --user-data ran and their --ssh-key key logs in (the seed
// drive made as them). Then everything is removed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineStatus, VmRecord } from '../../app/contract/api.js';
import { which } from '../../app/base/process.js';
import { vmPaths } from '../../app/base/paths.js';
import { runIf } from '../helpers/skip.js';
import { cpTree, execChecks } from '../e2e/exec-checks.js';
import { fillCache } from './guest-debs.js';
import { giveDebs, userCli } from './user-guest.js';
import { noRootBangerProcesses, ownedByUser, skipReason, TestUser, uidOf, type Result } from './user-fixture.js';

/** The network root's apply chose for the user (their config sets none, as a new user's). */
const net = { bridge: '', subnet: '' };
const DNS_PORT = 10054;
const USER_PAGE = 'first boot as the user';
const missing = ['qemu-system-x86_64', 'dig', 'ssh', 'apt-get']
  .filter((b) => !which(b, `${process.env.PATH}:/usr/sbin:/sbin`))
  .join(', ');
const reason = skipReason() ?? (missing ? `missing ${missing}` : null);
const t = suite<{ u: TestUser | null }>('real user, QEMU guest', { u: null });

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const json = <T>(r: Result, what: string): T => JSON.parse(ok(r, what).stdout) as T;

t.before(async (ctx) => {
  if (reason) return;
  const debs = fillCache();
  ctx.u = new TestUser({
    dnsAddr: `127.0.0.1:${DNS_PORT}`,
    firecrackerBin: '/nonexistent/firecracker',
    defaultBackend: 'qemu',
    // /dev/kvm on these hosts may be paravirtual and unusable by stock guests.
    qemuAccel: 'tcg',
    stopTimeoutMs: 20_000,
  });
  const u = ctx.u;
  await u.privateDevices({ kvm: false });
  // The user's own cache: their build runs offline from these copies.
  giveDebs(u, debs);
  ok(await u.setup('--apply'), 'setup sudoers --apply');
  const policy = JSON.parse(readFileSync(join(u.privDir, 'users', `${u.user}.json`), 'utf8'));
  [net.bridge, net.subnet] = [policy.bridges[0], policy.subnets[0]];
  assert.is(net.bridge, `banger${u.uid}`, 'the uid-derived bridge');
});

t.after((ctx) => ctx.u?.cleanup());

const it = runIf(t as never, reason) as unknown as (
  name: string,
  fn: (ctx: { u: TestUser | null }) => Promise<void>,
) => void;

it('as the user: image build and kernel fetch from their own cache', async ({ u }) => {
  ok(await u!.banger(['image', 'build', 'bb', '--from', 'busybox'], { timeoutMs: 300_000 }), 'image build');
  ok(await u!.banger(['kernel', 'fetch', 'deb'], { timeoutMs: 300_000 }), 'kernel fetch');
});

/** First-boot files in the user's home, theirs: a cloud-config and a key pair of their own. */
function firstBootFiles(u: TestUser): { userData: string; key: string } {
  const userData = join(u.home, 'user-data.yaml');
  writeFileSync(
    userData,
    `#cloud-config\nwrite_files:\n  - path: /srv/index.html\n    content: ${USER_PAGE}\nruncmd:\n  - httpd -p 8080 -h /srv\n`,
  );
  const key = join(u.home, 'id_fb');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fb-user', '-f', key]);
  execFileSync('chown', [`${u.user}:${u.user}`, userData, key, `${key}.pub`]);
  return { userData, key };
}

/** The user's seed drive: their user-data ran (a file, a service), their own key logs in. */
async function firstBootChecks(u: TestUser, vm: VmRecord, fb: { key: string }): Promise<void> {
  const fbOut = ok(
    await u.banger(['vm', 'ssh', 'g1', '--', 'cat /srv/index.html; echo; wget -qO- http://127.0.0.1:8080/'], {
      timeoutMs: 60_000,
    }),
    'vm ssh: first-boot facts',
  );
  assert.is(fbOut.stdout, `${USER_PAGE}\n${USER_PAGE}`, 'user-data wrote the page and started httpd');
  const own = ok(
    await u.asUser([
      'ssh',
      '-i',
      fb.key,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      `root@${vm.ip}`,
      'id -u',
    ]),
    'ssh with the --ssh-key key',
  );
  assert.is(own.stdout, '0\n');
  assert.is(statSync(vmPaths(u.paths, vm.id).seed).uid, u.uid, 'the seed drive is the user’s');
}

it('a QEMU guest as the user: SSH and NAME.vm answer; QEMU and the engine are the user', async ({ u }) => {
  const fb = firstBootFiles(u!);
  const vm = json<VmRecord>(
    await u!.banger(
      [
        'vm',
        'create',
        'g1',
        '--image',
        'bb',
        '--kernel',
        'deb',
        '--user-data',
        fb.userData,
        '--ssh-key',
        `${fb.key}.pub`,
        '--start',
        '--json',
      ],
      { timeoutMs: 120_000 },
    ),
    'vm create --start',
  );
  assert.is(vm.backend, 'qemu');
  const consoleLog = vmPaths(u!.paths, vm.id).consoleLog;
  const deadline = Date.now() + 120_000;
  let text = '';
  while (!/BANGER_READY \S+/.test(text)) {
    assert.ok(Date.now() < deadline, `guest did not boot:\n${text.slice(-2000)}`);
    assert.not.match(text, /Kernel panic/, text.slice(-2000));
    await new Promise((r) => setTimeout(r, 250));
    text = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
  }
  // A mismatch once (1 of 4 runs, not understood yet): keep what tells which side was wrong.
  const ready = /BANGER_READY \S+/.exec(text)![0];
  const cmdline = /Command line: .*/.exec(text)?.[0] ?? '(no kernel command line in the console)';
  const engineLog = existsSync(u!.paths.engineLog) ? readFileSync(u!.paths.engineLog, 'utf8').slice(-3000) : '';
  assert.is(ready, `BANGER_READY ${vm.ip}`, `the guest's address is the one create reported\n${cmdline}\n${engineLog}`);
  const dig = ok(
    await u!.asUser(['dig', '+short', '+time=2', '+tries=3', '-p', String(DNS_PORT), '@127.0.0.1', 'g1.vm']),
    'dig g1.vm',
  );
  assert.is(dig.stdout.trim(), vm.ip, 'g1.vm resolves to the guest');
  const ssh = ok(await u!.banger(['vm', 'ssh', 'g1', '--', 'hostname; id -u'], { timeoutMs: 60_000 }), 'vm ssh');
  assert.is(ssh.stdout, 'g1\n0\n', 'SSH into the guest with the user’s banger key');
  await firstBootChecks(u!, vm, fb);
  // Issue 23 finding 9: the guest asks the gateway's port 53, as a root engine's guests do; the
  // user's nft table redirects it to their engine's unprivileged listener.
  const gw = net.subnet.replace(/0\/24$/, '1');
  const look = ok(
    await u!.banger(['vm', 'ssh', 'g1', '--', `nslookup g1.vm ${gw}`], { timeoutMs: 60_000 }),
    'nslookup g1.vm in the guest',
  );
  assert.match(look.stdout, new RegExp(`Address:\\s+${vm.ip!.replace(/\./g, '\\.')}`), look.stdout);
  // vm exec and vm cp as the user (the 100 MiB copy is test/e2e/debian.test.ts's, also as a user).
  const cli = userCli(u!, 'g1', []);
  await execChecks(cli);
  await cpTree(cli, '/root');
  const dns = json<EngineStatus>(await u!.banger(['status', '--json']), 'status').dns;
  assert.equal(dns.guests, { via: 'gateway', servers: [gw] }, 'guests are given the gateway');
  const status = json<EngineStatus>(await u!.banger(['status', '--json']), 'status');
  assert.is(uidOf(status.pid), u!.uid, 'the engine runs as the user');
  assert.is(uidOf(vm.pid!), u!.uid, 'QEMU runs as the user');
  noRootBangerProcesses(u!);
  ownedByUser(u!);
  const stopped = json<VmRecord>(await u!.banger(['vm', 'stop', 'g1', '--json'], { timeoutMs: 60_000 }), 'vm stop');
  assert.is(stopped.state, 'stopped');
  ok(await u!.banger(['vm', 'rm', 'g1']), 'vm rm');
  ok(await u!.banger(['engine', 'stop', '--stop-vms', '--purge']), 'engine stop --purge');
  assert.not.match(u!.inNs(['ip', '-br', 'link']), new RegExp(`${net.bridge}|bgr-`), 'bridge and TAP gone');
  ok(await u!.setup('--remove'), 'setup sudoers --remove');
  assert.not.ok(existsSync(u!.entry));
});

t.run();
