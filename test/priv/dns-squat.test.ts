// Issue 23, finding 8: another local user binds your engine's DNS port first. Your engine must
// say so where you look (status, doctor; the TUI header has its own test), and when the host
// resolver sends .vm lookups to that port (banger dns setup --apply), refuse to start instead
// of leaving the squatter to answer for your VMs. Two created users in one netns.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { DoctorReport, EngineStatus } from '../../app/contract/api.js';
import type { Policy } from '../../app/priv/root/policy.js';
import { runIf } from '../helpers/skip.js';
import { kvmStandIn, pidsOfUid, simGuestFiles, skipReason, TestUser, type Result } from './user-fixture.js';
import { reachableSim } from '../helpers/reachable.js';

const reason = skipReason();
interface Ctx {
  a: TestUser | null;
  b: TestUser | null;
  squat: ChildProcess | null;
}
const t = suite<Ctx>('DNS port squatting (issue 23: 8)', { a: null, b: null, squat: null });

function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

const SQUAT = `
const dgram = require('node:dgram'); const net = require('node:net');
const port = Number(process.argv[1]); const host = process.argv[2] || '127.0.0.1';
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(m, r.port, r.address)); // answers whatever it is asked
u.bind(port, host, () => net.createServer(() => {}).listen(port, host, () => console.log('bound')));
setTimeout(() => process.exit(0), 300000);
`;

function portOf(u: TestUser): number {
  const p = JSON.parse(readFileSync(join(u.privDir, 'users', `${u.user}.json`), 'utf8')) as Policy;
  assert.ok(p.dnsPort, 'the policy names a DNS port');
  return p.dnsPort!;
}

async function squat(b: TestUser, port: number, host = '127.0.0.1'): Promise<ChildProcess> {
  const argv = ['ip', 'netns', 'exec', b.netns, 'runuser', '-u', b.user, '--'];
  const child = spawn(argv[0], [...argv.slice(1), process.execPath, '-e', SQUAT, String(port), host], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('bound') && resolve());
    child.once('exit', (c) => reject(new Error(`squatter exited ${c}`)));
  });
  return child;
}

function killAll(uid: number): void {
  for (const pid of pidsOfUid(uid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

t.before(async (ctx) => {
  if (reason) return;
  ctx.a = new TestUser({ network: 'none' });
  ctx.b = new TestUser({}, ctx.a);
  ok(await ctx.a.setup('--apply'), 'apply A');
  ok(await ctx.b.setup('--apply'), 'apply B');
  ctx.squat = await squat(ctx.b, portOf(ctx.a));
});

t.after((ctx) => {
  ctx.squat?.kill('SIGKILL');
  ctx.b?.cleanup();
  ctx.a?.cleanup();
});

const it = runIf(t as never, reason) as unknown as (name: string, fn: (ctx: Ctx) => Promise<void>) => void;

it("status and doctor name the user who holds the engine's DNS port", async ({ a, b }) => {
  const port = portOf(a!);
  const s = JSON.parse(ok(await a!.banger(['status', '--json']), 'status').stdout) as EngineStatus;
  const l = s.dns.listeners.find((x) => x.port === port);
  assert.ok(l, `a listener on the policy's port ${port}: ${JSON.stringify(s.dns.listeners)}`);
  assert.is(l!.up, false);
  assert.equal(l!.heldBy, { uid: b!.uid, user: b!.user });
  const text = ok(await a!.banger(['status']), 'status').stdout;
  assert.match(text, new RegExp(`127\\.0\\.0\\.1:${port} .*DOWN \\(port held by uid ${b!.uid} \\(${b!.user}\\)`));
  const d = JSON.parse(ok(await a!.banger(['doctor', '--json']), 'doctor').stdout) as DoctorReport;
  const c = d.checks.find((x) => x.name === 'dns port');
  assert.ok(c && !c.ok, JSON.stringify(d.checks));
  assert.match(c!.detail, new RegExp(`held by uid ${b!.uid} \\(${b!.user}\\)`));
  ok(await a!.banger(['engine', 'stop']), 'engine stop');
});

it('with the host resolver sent to that port, the engine refuses to start with E_DNS_PORT_TAKEN', async (ctx) => {
  const a = ctx.a!;
  const port = portOf(a);
  const dropIn = join(a.scratch, 'resolved-banger.conf');
  writeFileSync(dropIn, `[Resolve]\nDNS=127.0.0.1:${port}\nDomains=~vm\n`);
  chmodSync(dropIn, 0o644);
  const env = { BANGER_RESOLVED_DROPIN: dropIn };
  const r = await a.banger(['status'], { env });
  assert.is.not(r.code, 0, `must not start: ${r.stdout}`);
  assert.match(r.stderr, new RegExp(`DNS port 127\\.0\\.0\\.1:${port} is held by uid ${ctx.b!.uid}`));
  assert.match(r.stderr, /E_DNS_PORT_TAKEN/);
  const doc = JSON.parse(ok(await a.banger(['doctor', '--json'], { env }), 'doctor').stdout) as DoctorReport;
  assert.match(doc.checks.find((x) => x.name === 'dns port')!.detail, /refuses to start/);
  // The squatter gone, the same engine starts and serves.
  // (runuser's child is B's: every process of B's goes.)
  killAll(ctx.b!.uid);
  for (let i = 0; i < 100 && pidsOfUid(ctx.b!.uid).length; i++) await new Promise((res) => setTimeout(res, 50));
  const s = JSON.parse(ok(await a.banger(['status', '--json'], { env }), 'status').stdout) as EngineStatus;
  assert.ok(s.dns.listeners.find((x) => x.port === port)?.up, 'listener up');
  ok(await a.banger(['engine', 'stop'], { env }), 'engine stop');
});

it("the guest-facing listener: a squat on the gateway's port is named too, and guests are not sent there", async (ctx) => {
  const [a, b] = [ctx.a!, ctx.b!];
  const c = new TestUser({ firecrackerBin: reachableSim(), defaultBackend: 'firecracker', stopTimeoutMs: 2000 }, a);
  try {
    c.updateConfig({ kvmPath: kvmStandIn(c) });
    const files = simGuestFiles(c);
    ok(await c.setup('--apply'), 'apply C');
    const p = JSON.parse(readFileSync(join(c.privDir, 'users', `${c.user}.json`), 'utf8')) as Policy;
    const gw = p.subnets[0].replace(/0\/24$/, '1');
    // C's bridge is up (as its engine leaves it); B binds C's guest DNS port on its gateway first.
    ok(await c.entryCall(['bridge-add', p.bridges[0]]), 'bridge-add');
    ok(await c.entryCall(['addr-add', p.bridges[0], `${gw}/24`]), 'addr-add');
    ok(await c.entryCall(['link-up', p.bridges[0]]), 'link-up');
    const sq = await squat(b, p.dnsPort!, gw);
    try {
      ok(await c.banger(['kernel', 'add', 'k', files.kernel]), 'kernel add');
      ok(await c.banger(['image', 'import', 'img', files.rootfs]), 'image import');
      ok(await c.banger(['vm', 'create', 'v', '--image', 'img', '--kernel', 'k', '--start']), 'vm start');
      const s = JSON.parse(ok(await c.banger(['status', '--json']), 'status').stdout) as EngineStatus;
      const l = s.dns.listeners.find((x) => x.address === gw);
      assert.ok(l && !l.up, JSON.stringify(s.dns.listeners));
      assert.equal(l!.heldBy, { uid: b.uid, user: b.user });
      assert.is.not(s.dns.guests?.via, 'gateway', 'a guest starting now is not told to ask the squatted gateway');
      // And guests that still ask the gateway are not redirected to B's socket.
      const table = c.inNs(['nft', 'list', 'table', 'inet', `banger_${p.bridges[0]}`]);
      assert.match(table, /masquerade/);
      assert.not.match(table, /redirect/, table);
      ok(await c.banger(['engine', 'stop', '--stop-vms', '--purge']), 'engine stop');
    } finally {
      sq.kill();
      killAll(b.uid);
    }
  } finally {
    c.cleanup();
  }
});

t.run();
