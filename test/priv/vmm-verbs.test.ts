// The entry point's firecracker verb, checked in-process (root runs the tests): only the
// binary the policy fixes, root-only; only the launcher's flags; the API socket a new path in
// the user's dirs; the log a regular file of the user's (no symlink, no second link).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/firecracker-sim-harness.js';
import { plan } from '../../app/priv/root/verbs.js';
import { Refusal, type Policy } from '../../app/priv/root/policy.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';

const it = runIf(test, NEEDS_ROOT);
// A root-owned binary in root-only dirs: node itself stands in for Firecracker here.
const BIN = process.execPath;

function setup(): { p: Policy; dir: string } {
  const base = tempDir('vmmverb-');
  const dir = join(base, 'state');
  mkdirSync(join(dir, 'vms'), { recursive: true });
  writeFileSync(join(dir, 'vms', 'vmm.log'), '');
  const p: Policy = { user: 'root', uid: 0, gid: 0, bridges: [], subnets: [], dirs: [dir], firecracker: BIN };
  return { p, dir };
}

const refuses = (fn: () => unknown, what: string) =>
  assert.throws(fn, (e: unknown) => e instanceof Refusal, `refused: ${what}`);

it('the launcher’s argv is accepted as it is, and becomes one VMM action', () => {
  const { p, dir } = setup();
  const args = [
    '--api-sock',
    join(dir, 'vms', 'api.sock'),
    '--id',
    'a1b2c3',
    '--log-path',
    join(dir, 'vms', 'vmm.log'),
    '--level',
    'Info',
    '--show-level',
  ];
  assert.equal(plan(p, 'firecracker', [BIN, ...args]), [
    { vmm: [BIN, ...args], ready: join(dir, 'vms', 'api.sock'), what: `${BIN} as root` },
  ]);
});

it('refused: other binaries, no binary in the policy, sockets and logs outside or unsafe, unknown flags', () => {
  const { p, dir } = setup();
  const sock = join(dir, 'vms', 'api.sock');
  const ok = ['--api-sock', sock, '--id', 'x1'];
  refuses(() => plan({ ...p, firecracker: undefined }, 'firecracker', [BIN, ...ok]), 'no binary in the policy');
  refuses(() => plan(p, 'firecracker', ['/bin/sh', ...ok]), 'another binary');
  refuses(
    () => plan({ ...p, firecracker: join(dir, 'vms', 'vmm.log') }, 'firecracker', [join(dir, 'vms', 'vmm.log'), ...ok]),
    'a binary outside root-only dirs',
  );
  refuses(() => plan(p, 'firecracker', [BIN, '--api-sock', '/tmp/x.sock', '--id', 'x1']), 'socket outside the dirs');
  writeFileSync(sock, '');
  refuses(() => plan(p, 'firecracker', [BIN, ...ok]), 'a socket path that exists');
  const fresh = ['--api-sock', join(dir, 'vms', 'new.sock'), '--id', 'x1'];
  symlinkSync('/etc/shadow', join(dir, 'vms', 'evil.log'));
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh, '--log-path', join(dir, 'vms', 'evil.log')]), 'log symlink');
  linkSync(join(dir, 'vms', 'vmm.log'), join(dir, 'vms', 'second.log'));
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh, '--log-path', join(dir, 'vms', 'vmm.log')]), 'log with 2 links');
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh, '--log-path', '/etc/passwd']), 'log outside');
  refuses(() => plan(p, 'firecracker', [BIN, '--id', 'x1']), 'no socket');
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh, '--id', 'x2']), 'twice');
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh.slice(0, 3), 'x_1']), 'bad id');
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh.slice(0, 3), 'x'.repeat(65)]), 'long id');
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh, '--level', 'Loud']), 'bad level');
  for (const f of ['--no-seccomp', '--config-file', '--seccomp-filter', '--', 'extra', '--no-api'])
    refuses(() => plan(p, 'firecracker', [BIN, ...fresh, f, '/etc/passwd']), f);
  refuses(() => plan(p, 'firecracker', [BIN, ...fresh.slice(0, 3), 'x1;reboot']), 'metacharacters');
});

test.run();
