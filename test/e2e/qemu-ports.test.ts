// test-run: group guest-b host-users (boots a QEMU guest under TCG as a created user: one guest per lane; useradd takes host-wide locks)
// Published ports on a real QEMU busybox guest, run by a user made with useradd, one boot: a
// guest httpd published on the host's LAN-side address answers from a second netns playing the
// LAN (a veth between the user's netns and it, private addresses inside those namespaces only);
// a port published on the default 127.0.0.1 does not, nor does an unpublished guest port, even
// with a route to the guest subnet; a port below 1024 is refused for the user with
// E_PORT_PRIVILEGED; the published port still answers after the engine restarts with the VM
// running, and after a handover to a newer build; it closes when the VM stops.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VmRecord } from '../../app/contract/api.js';
import { which } from '../../app/base/process.js';
import { vmPaths } from '../../app/base/paths.js';
import { runIf } from '../helpers/skip.js';
import { fillCache } from '../priv/guest-debs.js';
import { skipReason, TestUser, uidOf, type Result } from '../priv/user-fixture.js';
import { collect } from '../helpers/collect.js';

const [HOST_LAN, LAN_IP] = ['10.231.0.1', '10.231.0.2'];
const missing = ['qemu-system-x86_64', 'curl', 'ssh', 'apt-get']
  .filter((b) => !which(b, `${process.env.PATH}:/usr/sbin:/sbin`))
  .join(', ');
const reason = skipReason() ?? (missing ? `missing ${missing}` : null);
const t = suite<{ u: TestUser | null; lan: string }>('published ports, QEMU guest, as a user', { u: null, lan: '' });
const figures: string[] = [];

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** curl from the LAN netns: the body, or null when nothing answered within 2 s. */
async function fromLan(lan: string, url: string): Promise<string | null> {
  const r = await collect(['ip', 'netns', 'exec', lan, 'curl', '-sS', '-m', '2', url], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout : null;
}

/** Poll the LAN until url answers (an engine that just came back may still be adopting). */
async function lanAnswers(lan: string, url: string, ms = 15_000): Promise<string | null> {
  const end = Date.now() + ms;
  for (;;) {
    const body = await fromLan(lan, url);
    if (body !== null || Date.now() > end) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.before(async (ctx) => {
  try {
    await before(ctx);
  } catch (err) {
    console.error(err);
    throw err;
  }
});
async function before(ctx: { u: TestUser | null; lan: string }) {
  if (reason) return;
  const debs = fillCache();
  ctx.u = new TestUser({
    dnsAddr: '127.0.0.1:10056',
    firecrackerBin: '/nonexistent/firecracker',
    defaultBackend: 'qemu',
    qemuAccel: 'tcg',
    stopTimeoutMs: 20_000,
  });
  const u = ctx.u;
  await u.privateDevices({ kvm: false });
  const cache = join(u.home, '.cache', 'banger');
  execFileSync('install', ['-d', '-o', u.user, '-g', u.user, '-m', '0700', join(u.home, '.cache'), cache]);
  execFileSync('install', ['-d', '-o', u.user, '-g', u.user, '-m', '0700', join(cache, 'debs')]);
  execFileSync('install', ['-o', u.user, '-g', u.user, '-m', '0644', '-t', join(cache, 'debs'), ...debs]);
  ok(await u.setup('--apply'), 'setup sudoers --apply');
  // The LAN: a netns of its own, a veth to the user's netns (the "host"), nothing else.
  ctx.lan = `${u.netns}-lan`;
  execFileSync('ip', ['netns', 'add', ctx.lan]);
  // From this mount namespace: the user's private one was made before the LAN's netns existed.
  execFileSync('ip', ['-n', ctx.lan, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', u.netns]);
  u.inNs(['ip', 'addr', 'add', `${HOST_LAN}/24`, 'dev', 'lan0']);
  u.inNs(['ip', 'link', 'set', 'lan0', 'up']);
  for (const argv of [
    ['ip', 'addr', 'add', `${LAN_IP}/24`, 'dev', 'eth0'],
    ['ip', 'link', 'set', 'eth0', 'up'],
    ['ip', 'link', 'set', 'lo', 'up'],
  ])
    execFileSync('ip', ['netns', 'exec', ctx.lan, ...argv]);
}

t.after((ctx) => {
  if (ctx.lan) spawnSync('ip', ['netns', 'delete', ctx.lan]);
  ctx.u?.cleanup();
  for (const f of figures) console.log(`e2e qemu-ports: ${f}`);
});

const it = runIf(t as never, reason) as unknown as (
  name: string,
  fn: (ctx: { u: TestUser | null; lan: string }) => Promise<void>,
) => void;

it('a published port reaches the guest from the LAN; nothing else does; it survives engine restarts', async (ctx) => {
  const u = ctx.u!;
  const lan = ctx.lan;
  let t0 = Date.now();
  // One engine builds both at once (the first call starts it; the second waits for its socket).
  ok(await u.banger(['status']), 'engine up');
  const [img, ker] = await Promise.all([
    u.banger(['image', 'build', 'bb', '--from', 'busybox'], { timeoutMs: 300_000 }),
    u.banger(['kernel', 'fetch', 'deb'], { timeoutMs: 300_000 }),
  ]);
  ok(img, 'image build');
  ok(ker, 'kernel fetch');
  figures.push(`image build + kernel fetch as the user: ${Date.now() - t0} ms`);
  // Bad input first: nothing is made.
  const low = await u.banger(['vm', 'create', 'x', '--image', 'bb', '--kernel', 'deb', '--publish', '80:80']);
  assert.is(low.code, 1, low.stderr);
  assert.match(low.stderr, /ip_unprivileged_port_start.*\[E_PORT_PRIVILEGED\]/);
  const bad = await u.banger(['vm', 'create', 'x', '--publish', '8080:70000']);
  assert.match(bad.stderr, /\[E_INVALID_PORT\]/);
  assert.is(ok(await u.banger(['vm', 'ls', '--json']), 'vm ls').stdout.trim(), '[]', 'no VM made');

  t0 = Date.now();
  const spec = ['--publish', `${HOST_LAN}:8080:80`, '--publish', '8081:81'];
  const vm = JSON.parse(
    ok(
      await u.banger(['vm', 'create', 'g1', '--image', 'bb', '--kernel', 'deb', ...spec, '--start', '--json'], {
        timeoutMs: 120_000,
      }),
      'vm create --publish --start',
    ).stdout,
  ) as VmRecord;
  assert.equal(vm.ports, [
    { addr: HOST_LAN, hostPort: 8080, guestPort: 80, proto: 'tcp' },
    { addr: '127.0.0.1', hostPort: 8081, guestPort: 81, proto: 'tcp' },
  ]);
  const log = vmPaths(u.paths, vm.id).consoleLog;
  for (let text = ''; !/BANGER_READY/.test(text); text = existsSync(log) ? readFileSync(log, 'utf8') : '') {
    assert.ok(Date.now() - t0 < 120_000, `guest did not boot:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  figures.push(`create + boot to BANGER_READY: ${Date.now() - t0} ms`);
  const www = 'mkdir -p /www && echo hello-from-g1 > /www/index.html && httpd -p 80 -h /www && httpd -p 81 -h /www';
  ok(await u.banger(['vm', 'ssh', 'g1', '--', www], { timeoutMs: 60_000 }), 'httpd in the guest');

  const url = `http://${HOST_LAN}:8080/`;
  assert.is(await lanAnswers(lan, url), 'hello-from-g1\n', 'the published port answers the LAN');
  const local = ok(await u.asUser(['curl', '-sS', '-m', '3', 'http://127.0.0.1:8081/']), 'curl 127.0.0.1:8081');
  assert.is(local.stdout, 'hello-from-g1\n', 'the default address answers on the host (so guest port 81 serves)');
  // With a route to the guest subnet through the host: still nothing but the published port.
  const subnet = vm.ip!.replace(/\.\d+$/, '.0/24');
  execFileSync('ip', ['netns', 'exec', lan, 'ip', 'route', 'add', subnet, 'via', HOST_LAN]);
  const [loopOnly, direct81, direct80] = await Promise.all([
    fromLan(lan, `http://${HOST_LAN}:8081/`),
    fromLan(lan, `http://${vm.ip}:81/`),
    fromLan(lan, `http://${vm.ip}:80/`),
  ]);
  assert.is(loopOnly, null, '127.0.0.1 (the default) is not published to the LAN');
  assert.is(direct81, null, 'an unpublished guest port is not reachable from the LAN');
  assert.is(direct80, null, 'nor the published one at the guest address itself');

  // vm port add/rm on the running VM take effect at once.
  ok(await u.banger(['vm', 'port', 'add', 'g1', `${HOST_LAN}:9081:81`]), 'port add');
  assert.is(await fromLan(lan, `http://${HOST_LAN}:9081/`), 'hello-from-g1\n', 'port add: at once');
  ok(await u.banger(['vm', 'port', 'rm', 'g1', '9081']), 'port rm');
  assert.is(await fromLan(lan, `http://${HOST_LAN}:9081/`), null, 'port rm: at once');

  // The engine goes away with the VM running, and the next one adopts it and reopens the port.
  t0 = Date.now();
  ok(await u.banger(['engine', 'stop']), 'engine stop (VMs left running)');
  assert.is(await fromLan(lan, url), null, 'no engine, no listener');
  const adopted = JSON.parse(ok(await u.banger(['vm', 'show', 'g1', '--json']), 'vm show').stdout) as VmRecord;
  assert.is(adopted.state, 'running');
  assert.is(adopted.lastError, null);
  assert.is(await lanAnswers(lan, url), 'hello-from-g1\n', 'reopened by the engine that adopted the VM');
  figures.push(`engine restart to the port answering again: ${Date.now() - t0} ms`);
  // A front end of a newer build: the engine hands over, the new one reopens the port.
  const next = { BANGER_BUILD_ID: `priv-test-${u.user}-next` };
  ok(await u.banger(['vm', 'ls'], { env: next }), 'vm ls as a newer build (handover)');
  assert.is(await lanAnswers(lan, url), 'hello-from-g1\n', 'reopened after the handover');
  const st = JSON.parse(ok(await u.banger(['status', '--json'], { env: next }), 'status').stdout);
  assert.is(st.buildId, next.BANGER_BUILD_ID);
  assert.is(uidOf(st.pid), u.uid, 'the engine (and its forwarder) runs as the user');

  ok(await u.banger(['vm', 'stop', 'g1', '--force'], { env: next, timeoutMs: 60_000 }), 'vm stop --force');
  assert.is(await fromLan(lan, url), null, 'closed when the VM stops');
  ok(await u.banger(['engine', 'stop', '--stop-vms', '--purge'], { env: next }), 'engine stop --purge');
});

t.run();
