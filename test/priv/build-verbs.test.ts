// The entry point's debootstrap-image verb: every argument checked before anything is made
// (suite, mirror URL, package list, a new output file inside the user's dirs), and the work dir
// it makes as root removed on failure too, leaving no output behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/firecracker-sim-harness.js';
import { which } from '../../app/base/process.js';
import { plan } from '../../app/priv/root/verbs.js';
import { Refusal, type Policy } from '../../app/priv/root/policy.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';

const it = runIf(test, NEEDS_ROOT);
const MIRROR = 'http://deb.debian.org/debian';
const PKGS = 'systemd-sysv,udev,openssh-server';

function setup(): { p: Policy; builds: string } {
  const dir = join(tempDir('buildverb-'), 'state');
  const builds = join(dir, 'builds', 'job1.tmp');
  mkdirSync(builds, { recursive: true });
  return { p: { user: 'root', uid: 0, gid: 0, bridges: [], subnets: [], dirs: [dir] }, builds };
}
const refuses = (fn: () => unknown, what: string) =>
  assert.throws(fn, (e: unknown) => e instanceof Refusal, `refused: ${what}`);
const ours = () => readdirSync('/var/tmp').filter((e) => e.startsWith('banger-deb-root-'));

it('refused before anything is made: suite, mirror, packages, output, arity', () => {
  const { p, builds } = setup();
  const out = join(builds, 'debootstrap.ext4');
  const before = ours();
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', MIRROR, PKGS]), 'arity');
  refuses(() => plan(p, 'debootstrap-image', ['Bookworm;id', MIRROR, PKGS, out]), 'suite');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', 'file:///etc', PKGS, out]), 'file mirror');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', 'http://x/$(id)', PKGS, out]), 'mirror metachar');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', MIRROR, 'curl,--print-debs', out]), 'an option as a package');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', MIRROR, 'Curl', out]), 'package name');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', MIRROR, PKGS, '/etc/passwd.ext4']), 'output outside');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', MIRROR, PKGS, `${builds}/../../../../etc/x`]), '..');
  writeFileSync(out, '');
  refuses(() => plan(p, 'debootstrap-image', ['bookworm', MIRROR, PKGS, out]), 'an existing output');
  assert.equal(ours(), before, 'no work dir was made');
});

runIf(test, NEEDS_ROOT ?? (which('debootstrap', '/usr/sbin:/usr/bin') ? null : 'debootstrap not installed'))(
  'a failing debootstrap: the work dir goes, no output is left',
  async () => {
    const { p, builds } = setup();
    const out = join(builds, 'debootstrap.ext4');
    const before = ours();
    // Nothing listens on port 9 of loopback: debootstrap fails at once, no network involved.
    const [a] = plan(p, 'debootstrap-image', ['bookworm', 'http://127.0.0.1:9/debian', PKGS, out]);
    const err = await Promise.resolve((a as { run: () => Promise<void> }).run()).then(
      () => null,
      (e: Error) => e,
    );
    assert.match(String(err?.message), /debootstrap failed/);
    assert.not.ok(existsSync(out), 'no output');
    assert.equal(ours(), before, 'the work dir was removed');
  },
);

test.run();
