// test-run: group host-users guest (boots a Debian guest under TCG, one guest at a time; adds a host user, its sudoers drop-in and entry point)
// The Debian image on a real QEMU guest, as a user made with useradd, one boot for everything:
// vm exec (exit codes, separate streams, -i, -t) and vm cp (a tree both ways with modes, "-"
// tar streams, DIR/. and DST/, 100 MiB with equal checksums), then each feature's Debian
// checks (debian-plugs.ts). The image comes from the test cache (debian-image.ts); a cold
// cache builds it here first (debootstrap through the entry point: minutes, not seconds).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { VmRecord } from '../../app/contract/api.js';
import { which } from '../../app/base/process.js';
import { vmPaths } from '../../app/base/paths.js';
import { testCacheDir } from '../helpers/cache.js';
import { firstReason, missingReason, runIf, slowReason } from '../helpers/skip.js';
import { skipReason, TestUser, uidOf } from '../priv/user-fixture.js';
import { fillCache } from '../priv/guest-debs.js';
import { giveDebs, userCli } from '../priv/user-guest.js';
import { buildDebianAs, cachedDebian, importDebianAs } from './debian-image.js';
import { plugs, type DebianCtx } from './debian-plugs.js';
import { cpBig, cpStreams, cpTree, execChecks } from './exec-checks.js';
import { debKernel } from './deb-kernel.js';
import { ok } from './harness.js';

const DNS_PORT = 10055;
const tools = ['qemu-system-x86_64', 'ssh', 'apt-get', 'debugfs', 'mkfs.ext4'];
const missing = tools.filter((b) => !which(b, `${process.env.PATH}:/usr/sbin:/sbin`));
// A cold cache needs debootstrap (run by root through the entry point) and the Debian mirror.
const coldMissing =
  cachedDebian() || which('debootstrap', `${process.env.PATH}:/usr/sbin:/sbin`) ? [] : ['debootstrap'];
// Minutes under TCG (a cold image build ~4-6 min, a cached run ~2 min on a quiet host): over the
// suite's 6-minute budget, so it runs on request; busybox covers the same checks in every run.
const reason = firstReason(
  slowReason('a Debian guest under TCG, 2-6 minutes'),
  skipReason(),
  missingReason([...missing, ...coldMissing]),
);
const figures: string[] = [];
const t = suite<{ ctx: DebianCtx | null }>('Debian guest as a created user', { ctx: null });
type Check = (c: { ctx: DebianCtx }) => Promise<void>;
const checked =
  (fn: Check): Check =>
  (c) => {
    if (setupError) throw setupError;
    return fn(c);
  };
const it = (name: string, fn: Check) => runIf(t as never, reason)(name, checked(fn) as never);

/** The image (imported from the cache, or built here when it is cold) and the kernel. */
async function artifacts(u: TestUser): Promise<void> {
  const cached = cachedDebian();
  if (cached) figures.push(`image import from the cache: ${await importDebianAs(u, 'deb', cached)} ms`);
  else figures.push(`image build (cold cache): ${(await buildDebianAs(u, 'deb')).ms} ms`);
  const t0 = Date.now();
  const how = await debKernel(async (args, ms) => ({
    ...(await u.banger(readable(u, args), { timeoutMs: ms })),
    ms: 0,
  }));
  figures.push(`kernel (${how}): ${Date.now() - t0} ms`);
}

/** `kernel add` of files in root's private cache: copies the user can read, in their scratch dir. */
function readable(u: TestUser, args: string[]): string[] {
  if (args[0] !== 'kernel' || args[1] !== 'add') return args;
  return args.map((a) => {
    if (!a.startsWith(testCacheDir())) return a;
    const copy = join(u.scratch, basename(a));
    copyFileSync(a, copy);
    chmodSync(copy, 0o644);
    return copy;
  });
}

async function boot(ctx: DebianCtx): Promise<VmRecord> {
  const extra: string[] = [];
  for (const p of plugs) if (!p.pending) extra.push(...(await p.createArgs(ctx)));
  const t0 = Date.now();
  const args = ['vm', 'create', 'deb', '--image', 'deb', '--kernel', 'deb', '--memory', '512', ...extra];
  const vm = JSON.parse(
    ok(await ctx.u.banger([...args, '--start', '--json'], { timeoutMs: 120_000 }), 'vm create --start').stdout,
  ) as VmRecord;
  const log = vmPaths(ctx.u.paths, vm.id).consoleLog;
  const deadline = Date.now() + 300_000;
  let text = '';
  while (!/BANGER_READY \S+/.test(text)) {
    assert.ok(Date.now() < deadline, `the Debian guest did not boot:\n${text.slice(-2000)}`);
    assert.not.match(text, /Kernel panic/, text.slice(-2000));
    await new Promise((r) => setTimeout(r, 250));
    text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  }
  figures.push(`boot to BANGER_READY: ${Date.now() - t0} ms`);
  return vm;
}

/** uvu drops what a before hook throws: kept here and thrown by every check instead. */
let setupError: unknown = null;

t.before(async (c) => {
  if (reason) return;
  try {
    await setUp(c);
  } catch (e) {
    setupError = e;
  }
});

async function setUp(c: { ctx: DebianCtx | null }): Promise<void> {
  const t0 = Date.now();
  const debs = fillCache();
  const u = new TestUser({
    dnsAddr: `127.0.0.1:${DNS_PORT}`,
    firecrackerBin: '/nonexistent/firecracker',
    defaultBackend: 'qemu',
    // /dev/kvm on these hosts may be paravirtual and unusable by stock guests.
    qemuAccel: 'tcg',
    stopTimeoutMs: 20_000,
  });
  await u.privateDevices({ kvm: false });
  giveDebs(u, debs);
  ok(await u.setup('--apply'), 'setup sudoers --apply');
  const cli = userCli(u, 'deb', figures);
  c.ctx = { u, cli, work: cli.work, vm: null };
  await artifacts(u);
  c.ctx.vm = await boot(c.ctx);
  figures.push(`ready (user, image, kernel, boot): ${Date.now() - t0} ms`);
}

t.after(async (c) => {
  const u = c.ctx?.u;
  try {
    if (u) await u.banger(['engine', 'stop', '--stop-vms', '--purge'], { timeoutMs: 60_000 });
    if (u) await u.setup('--remove');
  } finally {
    u?.cleanup();
    for (const f of figures) console.log(`e2e debian: ${f}`);
  }
});

it('Debian, as the user: QEMU and the engine are theirs; vm exec codes, streams, -i, -t', async ({ ctx }) => {
  assert.is(ctx.vm!.backend, 'qemu');
  assert.is(uidOf(ctx.vm!.pid!), ctx.u.uid, 'QEMU runs as the user');
  const os = ok(await ctx.cli.b(['vm', 'exec', 'deb', '--', 'sh', '-c', '. /etc/os-release; echo $ID']), 'os-release');
  assert.is(os.stdout, 'debian\n', 'a Debian guest');
  const t0 = Date.now();
  await execChecks(ctx.cli);
  figures.push(`exec checks: ${Date.now() - t0} ms`);
});

it('Debian, as the user: vm cp of a tree both ways, tar streams, 100 MiB with equal checksums', async ({ ctx }) => {
  await cpTree(ctx.cli, '/root');
  await cpStreams(ctx.cli, '/root');
  await cpBig(ctx.cli, '/root');
});

for (const p of plugs)
  runIf(t as never, reason ?? p.pending)(p.name, ((c: { ctx: DebianCtx }) => p.check(c.ctx)) as never);

t.run();
