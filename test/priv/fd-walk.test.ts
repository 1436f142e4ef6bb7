// The entry point's descriptor-based walk and removal (root runs these tests): a user's dir
// is reached only through dirs of theirs with no symlink on the way (root's own links above
// it are followed); a removal never follows a link, stops at a mount, and stops on a swap;
// ip-forward's records across two users.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  readdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/firecracker-sim-harness.js';
import { closeDir, openRootOnly, openTrusted, userDirOf } from '../../app/priv/root/fd-walk.js';
import { removeTreeAt } from '../../app/priv/root/fd-remove.js';
import { planIpForward } from '../../app/priv/root/forward-verb.js';
import { Refusal, type Policy } from '../../app/priv/root/policy.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';

const it = runIf(test, NEEDS_ROOT);
const UID = 4242;
const refuses = (fn: () => unknown, what: string, re?: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof Refusal && (!re || re.test(e.message)), `refused: ${what}`);

function userTree(): { p: Policy; state: string; base: string } {
  const base = tempDir('fdwalk-');
  const state = join(base, 'home', 'state');
  mkdirSync(join(state, 'vms', 'a'), { recursive: true });
  for (const d of [join(base, 'home'), state, join(state, 'vms'), join(state, 'vms', 'a')]) chownSync(d, UID, UID);
  const p: Policy = { user: 'u', uid: UID, gid: UID, bridges: [], subnets: [], dirs: [state] };
  return { p, state, base };
}

it("userDirOf: the user's dirs only, no symlink below the banger dir, owner checked", () => {
  const { p, state, base } = userTree();
  const got = userDirOf(p, join(state, 'vms', 'a', 'api.sock'));
  assert.is(got.name, 'api.sock');
  assert.is(got.dir.st.uid, UID);
  closeDir(got.dir);
  symlinkSync(join(state, 'vms', 'a'), join(state, 'vms', 'l'));
  refuses(() => userDirOf(p, join(state, 'vms', 'l', 'api.sock')), 'a symlink on the way', /not a directory/);
  mkdirSync(join(state, 'vms', 'rootdir'));
  refuses(() => userDirOf(p, join(state, 'vms', 'rootdir', 'x')), "a dir that is not the user's", /owned by u/);
  refuses(() => userDirOf(p, '/etc/passwd'), 'outside', /outside/);
  refuses(() => userDirOf(p, `${state}/../state/x`), '..', /normal path/);
  refuses(() => userDirOf(p, join(state, 'nope', 'x')), 'missing', /does not exist/);
  rmSync(base, { recursive: true, force: true });
});

it("openTrusted follows root's own links above a policy dir; openRootOnly follows none", () => {
  const { base } = userTree();
  symlinkSync(join(base, 'home'), join(base, 'homelink')); // root's link in root's 0755 dir
  const d = openTrusted(join(base, 'homelink', 'state'));
  assert.is(d.st.uid, UID);
  closeDir(d);
  const userOwned = join(base, 'home', 'state');
  symlinkSync(join(base, 'home'), join(userOwned, 'back'));
  chownSync(userOwned, UID, UID);
  // A root-made link inside the user's dir is not trusted: the user could have swapped it in.
  refuses(() => openTrusted(join(userOwned, 'back', 'state')), "a link in the user's dir");
  // /proc/self: a link of root's in a root-only dir; openRootOnly (the jail base) takes none.
  closeDir(openTrusted('/proc/self'));
  refuses(() => openRootOnly('/proc/self'), 'a link in a root-only path');
  rmSync(base, { recursive: true, force: true });
});

it('removeTreeAt: removes a tree, never through a link, and stops at a mount', () => {
  const base = tempDir('fdrm-');
  const outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'x');
  const jail = join(base, 'jail');
  mkdirSync(join(jail, 'root', 'a', 'b'), { recursive: true });
  writeFileSync(join(jail, 'root', 'a', 'b', 'f'), 'x');
  symlinkSync(outside, join(jail, 'root', 'l'));
  symlinkSync(join(outside, 'keep'), join(jail, 'root', 'a', 'k'));
  const parent = openTrusted(base);
  try {
    removeTreeAt(parent, 'jail');
  } finally {
    closeDir(parent);
  }
  assert.not.ok(existsSync(jail), 'the jail is gone');
  assert.is(readFileSync(join(outside, 'keep'), 'utf8'), 'x', 'what the links named is untouched');
  // A mount inside: the removal stops there and leaves the mounted files alone.
  mkdirSync(join(jail, 'm'), { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', 'bgt-fdrm', join(jail, 'm')]).status === 0;
  assert.ok(mounted, 'a tmpfs mounted inside the tree');
  if (mounted) {
    try {
      writeFileSync(join(jail, 'm', 'inside'), 'x');
      const held = openTrusted(base);
      try {
        refuses(() => removeTreeAt(held, 'jail'), 'a mount inside', /another filesystem|mount point/);
      } finally {
        closeDir(held);
      }
      assert.equal(readdirSync(join(jail, 'm')), ['inside'], 'the mount was not entered');
    } finally {
      spawnSync('umount', [join(jail, 'm')]);
    }
  }
  rmSync(base, { recursive: true, force: true });
});

it('ip-forward records: a second user takes the first one’s value; the last restore turns it off', () => {
  const dir = tempDir('fwd-');
  const alice: Policy = { user: 'alice', uid: 1, gid: 1, bridges: [], subnets: [], dirs: [] };
  const bob: Policy = { ...alice, user: 'bob', uid: 2 };
  const run = (steps: ReturnType<typeof planIpForward>) => {
    const argv: string[][] = [];
    for (const s of steps)
      if ('run' in s) s.run();
      else argv.push(s.argv);
    return argv.map((a) => a.join(' '));
  };
  const on = 'sysctl -q -w net.ipv4.ip_forward=1';
  const off = 'sysctl -q -w net.ipv4.ip_forward=0';
  refuses(() => planIpForward(alice, dir, '2'), 'ip-forward 2');
  assert.equal(run(planIpForward(alice, dir, '0')), [], 'nothing recorded: nothing changed');
  // alice's record holds what the host had; a recorded "0" is written as the host's value.
  mkdirSync(join(dir, 'forward'), { mode: 0o700 });
  writeFileSync(join(dir, 'forward', 'alice'), '0\n');
  assert.equal(run(planIpForward(bob, dir, '1')), [on]);
  assert.is(readFileSync(join(dir, 'forward', 'bob'), 'utf8'), '0\n', "bob's record: the host's value before alice");
  assert.equal(run(planIpForward(alice, dir, '0')), [], 'bob still forwards: alice leaves it on');
  assert.not.ok(existsSync(join(dir, 'forward', 'alice')));
  assert.equal(run(planIpForward(bob, dir, '0')), [off], 'the last one restores the host value');
  rmSync(dir, { recursive: true, force: true });
});

test.run();
