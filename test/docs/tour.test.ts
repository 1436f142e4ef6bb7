// test-run: group guest-b host-users (boots QEMU guests under TCG as root and as a useradd user: one guest per lane, and the host-users locks)
// The README's five-minute tour followed word for word (test/docs/tour.ts), on a machine as
// fresh as a test can make one: as root with a throwaway /root (a private mount namespace binds
// a temp dir over it, so ssh's ~/.ssh/config and banger's XDG dirs are the test's, never root's
// real ones), and as a user made with useradd who has run the install's `setup sudoers --apply`.
// Both inside a network namespace of their own, with the install's default image and kernel
// (built from the test cache's .debs, offline, by the same commands scripts/setup runs), ending
// with `ssh web.vm` answering after the documented `setup ssh` and resolver steps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { testCacheDir } from '../helpers/cache.js';
import { collect } from '../helpers/collect.js';
import { Netns } from '../e2e/harness.js';
import { skipReason, TestUser } from '../priv/user-fixture.js';
import { ROOT } from './check.js';
import { reachableRoot } from '../helpers/reachable.js';
import { checkTour, runTour, type Out, type Side } from './tour.js';

const PACKAGES = ['busybox-static', 'dropbear-bin', 'libtomcrypt1', 'libtommath1', 'linux-image-'];
const SBIN = `${process.env.PATH}:/usr/sbin:/sbin`;
const missing = ['qemu-system-x86_64', 'ssh', 'tmux', 'dnsmasq', 'unshare', 'ip', 'setsid'].filter(
  (b) => !which(b, SBIN),
);
const reason = firstReason(NEEDS_ROOT, missingReason(missing));
const t = suite('README tour');
const it = runIf(t as never, reason);
const itUser = runIf(t as never, reason ?? skipReason());

/** The .debs the install's image build and kernel fetch need (downloaded once, as test/e2e does). */
function debs(): string[] {
  const dir = join(testCacheDir(), 'debs');
  const have = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : []);
  if (!PACKAGES.every((p) => have().some((f) => f.startsWith(p)))) {
    const tmp = mkdtempSync('/tmp/banger-tour-cache-');
    const cfg = join(tmp, 'config');
    mkdirSync(cfg);
    execFileSync('sh', ['-c', `echo '{"network":"none","dnsAddr":"127.0.0.1:0"}' > ${cfg}/config.json`]);
    const env = { ...process.env, BANGER_STATE_DIR: join(tmp, 's'), BANGER_CONFIG_DIR: cfg };
    Object.assign(env, { BANGER_RUNTIME_DIR: join(tmp, 'r'), BANGER_CACHE_DIR: testCacheDir() });
    const b = (a: string[]) => execFileSync(join(ROOT, 'bin', 'banger'), a, { env, stdio: 'ignore', timeout: 600_000 });
    try {
      b(['image', 'build', 'bb', '--from', 'busybox']);
      b(['kernel', 'fetch', 'deb']);
      b(['engine', 'stop']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return have().map((f) => join(dir, f));
}

/**
 * A dir holding `banger`, as the install's `ln -s "$PWD/bin/banger" /usr/local/bin/banger`
 * (for the user, to a checkout they can reach: helpers/reachable.ts).
 */
function binDir(parent: string, root = ROOT): string {
  const d = join(parent, 'bin');
  mkdirSync(d, { recursive: true, mode: 0o755 });
  symlinkSync(join(root, 'bin', 'banger'), join(d, 'banger'));
  return d;
}

/** The install's last two steps (scripts/setup), then the tour. */
async function installAndTour(side: Side): Promise<Map<string, Out>> {
  for (const step of [
    ['banger', 'image', 'build', 'default', '--from', 'busybox'],
    ['banger', 'kernel', 'fetch', 'default'],
  ]) {
    const r = await side.run(step, 300_000);
    assert.is(r.code, 0, `${step.join(' ')}: ${r.stderr}`);
  }
  return runTour(side);
}

it('as root, in a throwaway /root: ssh web.vm works after the documented steps', async () => {
  const home = mkdtempSync('/tmp/banger-tour-root-');
  chmodSync(home, 0o700);
  const bin = binDir(mkdtempSync('/tmp/banger-tour-bin-'));
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  mkdirSync(join(home, '.cache', 'banger', 'debs'), { recursive: true, mode: 0o700 });
  execFileSync('cp', ['-t', join(home, '.cache', 'banger', 'debs'), ...debs()]);
  const ns = await Netns.create(`banger-tour-${process.pid}`);
  const env = [
    'HOME=/root',
    'USER=root',
    'LOGNAME=root',
    `PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    'LANG=C.UTF-8',
    'TERM=xterm-256color',
    'XDG_RUNTIME_DIR=/root/run',
    `BANGER_BUILD_ID=tour-${process.pid}`,
  ];
  const side: Side = {
    netns: ns.name,
    run: (argv, timeoutMs = 60_000) =>
      collect(
        [
          ...[
            'unshare',
            '--mount',
            '--propagation',
            'private',
            '--',
            'sh',
            '-c',
            'mount --bind "$0" /root && exec "$@"',
          ],
          ...[home, 'ip', 'netns', 'exec', ns.name, 'env', '-i', ...env, ...argv],
        ],
        { cwd: '/', timeoutMs },
      ),
  };
  try {
    const seen = await installAndTour(side);
    checkTour(seen);
    const known = readFileSync(join(home, '.local', 'state', 'banger', 'keys', 'known_hosts.vm'), 'utf8');
    assert.not.match(known, /^web\.vm /m, 'vm rm dropped the host key ssh web.vm pinned');
    const cfg = readFileSync(join(home, '.ssh', 'config'), 'utf8');
    assert.match(cfg, /^# banger: ssh NAME\.vm/, 'the Include went into the throwaway /root, not the real one');
    assert.not.ok(
      existsSync(join(home, '.local', 'state', 'banger', 'vms')) &&
        readdirSync(join(home, '.local', 'state', 'banger', 'vms')).length,
    );
  } finally {
    await ns.destroy();
    rmSync(home, { recursive: true, force: true });
    rmSync(join(bin, '..'), { recursive: true, force: true });
  }
});

itUser('as a user made for the test, after setup sudoers --apply: the same tour', async () => {
  const u = new TestUser({});
  try {
    await u.privateDevices({ kvm: false });
    const cache = join(u.home, '.cache', 'banger');
    execFileSync('install', ['-d', '-o', u.user, '-g', u.user, '-m', '0700', join(u.home, '.cache'), cache]);
    execFileSync('install', ['-d', '-o', u.user, '-g', u.user, '-m', '0700', join(cache, 'debs')]);
    execFileSync('install', ['-o', u.user, '-g', u.user, '-m', '0644', '-t', join(cache, 'debs'), ...debs()]);
    const r = await u.setup('--apply');
    assert.is(r.code, 0, `setup sudoers --apply: ${r.stderr}`);
    const bin = binDir(u.scratch, reachableRoot());
    const side: Side = {
      netns: u.netns,
      run: (argv, timeoutMs) =>
        u.asUser(argv, { timeoutMs, env: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, TERM: 'xterm-256color' } }),
    };
    checkTour(await installAndTour(side));
    assert.match(readFileSync(join(u.home, '.ssh', 'config'), 'utf8'), /^# banger: ssh NAME\.vm/);
  } finally {
    u.cleanup();
  }
});

t.run();
