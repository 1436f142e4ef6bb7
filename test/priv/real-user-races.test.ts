// test-run: group host-users (each adds a host user, its sudoers drop-in and entry point: useradd/visudo take host-wide locks)
// Issue 23, findings 1-3, run as races: a created user (in a throwaway netns) swaps a
// directory of theirs with a symlink to a root-only place, in a loop, while calling the entry
// point's chown-sock, jail-rm and debootstrap-image (with a stand-in debootstrap) at least 100
// times each. Root's files must come through untouched: nothing chowned to the user, deleted,
// or created in root's directory. Before the descriptor-based entry point each got through.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runIf } from '../helpers/skip.js';
import { skipReason, TestUser, type Result } from './user-fixture.js';
import { asUserWords, histogram, rootScript, startExchanger } from './race-fixture.js';

const ROUNDS = 120;
const reason = skipReason() ?? (existsSync('/srv') ? null : 'no /srv for a root-only jail base');
const t = suite<{ u: TestUser | null; base: string }>('real user races', { u: null, base: '' });

function code(r: Result, want: number, what: string): Result {
  assert.is(r.code, want, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
function ok(r: Result, what: string): Result {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
/** PRIV_TEST_DEBUG=1: one line per race (swaps, exit codes) for the report. */
const note = (what: string) => void (process.env.PRIV_TEST_DEBUG && console.log(`\n${what}`));
const sh = (argv: string[]) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });

t.before(async (ctx) => {
  if (reason) return;
  ctx.u = new TestUser({ bridge: 'bangerrc0', subnet: '172.31.95.0/24' });
  ok(await ctx.u.setup('--apply'), 'setup sudoers --apply');
  const state = ctx.u.paths.stateDir;
  sh(['install', '-d', '-o', ctx.u.user, '-g', ctx.u.user, '-m', '0755', join(state, '..'), state]);
  sh(['chown', `${ctx.u.user}:${ctx.u.user}`, join(state, '..', '..')]);
  ctx.base = `/srv/bgt-${ctx.u.user}`;
});

t.after((ctx) => {
  if (ctx.base) rmSync(ctx.base, { recursive: true, force: true });
  ctx.u?.cleanup();
});

const it = runIf(t as never, reason) as unknown as (
  name: string,
  fn: (ctx: { u: TestUser | null; base: string }) => Promise<void>,
) => void;

/** A root-only dir (0700) outside the user's reach: the attack's target. */
function rootOnly(u: TestUser, name: string): string {
  const d = join(u.scratch, name);
  sh(['install', '-d', '-o', 'root', '-g', 'root', '-m', '0700', d]);
  return d;
}

/** race/d (a dir of the user's) and race/l (their symlink to target), in the user's state dir. */
function racePair(u: TestUser, target: string): { d: string; l: string } {
  const race = join(u.paths.stateDir, 'race');
  const d = join(race, 'd');
  sh(['install', '-d', '-o', u.user, '-g', u.user, '-m', '0755', race, d]);
  sh(['ln', '-sfn', target, join(race, 'l')]);
  sh(['chown', '-h', `${u.user}:${u.user}`, join(race, 'l')]);
  return { d, l: join(race, 'l') };
}

const bindSocket = (path: string) =>
  `python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' ${path}`;

it(`finding 1: chown-sock against a dir/symlink exchange loop, ${ROUNDS} calls: root's socket stays root's`, async ({
  u,
}) => {
  const root = rootOnly(u!, 'chown-target');
  sh(['bash', '-c', bindSocket(join(root, 'api.sock'))]);
  const { d, l } = racePair(u!, root);
  ok(await u!.asUser(['bash', '-c', bindSocket(join(d, 'api.sock'))]), 'the user makes their socket');
  const ex = startExchanger(u!, d, l);
  const r = await rootScript(
    u!,
    `for i in $(seq ${ROUNDS}); do ${asUserWords(u!)} chown-sock ${join(d, 'api.sock')} >/dev/null 2>&1; echo $?; done`,
  );
  const swaps = await ex.stop();
  const st = lstatSync(join(root, 'api.sock'));
  const calls = histogram(r.stdout);
  note(`race 1: ${swaps} swaps, exit codes ${calls}${r.stderr.match(/lost=\d+/)?.[0] ?? ''}`);
  assert.ok(swaps > 1000, `the exchange loop ran (${swaps} swaps)`);
  assert.is(st.uid, 0, `root's socket is still root's after ${ROUNDS} calls (${calls})`);
  assert.ok(/(^| )0:/.test(calls), `some calls did chown the user's own socket (${calls})`);
});

it(`finding 2: jail-rm against a dir/symlink exchange loop inside the jail, ${ROUNDS} rounds: nothing outside goes`, async ({
  u,
  base,
}) => {
  const id = 'racejail1';
  const fcDir = join(base, 'firecracker');
  const jail = join(fcDir, id);
  const victim = join(base, 'victim');
  sh(['install', '-d', '-o', 'root', '-g', 'root', '-m', '0755', base, fcDir]);
  sh(['install', '-d', '-o', 'root', '-g', 'root', '-m', '0700', victim]);
  // Many names: each is one more unlink a swap can redirect (the old rmSync lost a few per 100).
  const names = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  // The user's policy with a jailer (jail-rm reads only these three fields).
  const policyFile = join(u!.privDir, 'users', `${u!.user}.json`);
  const policy = JSON.parse(execFileSync('cat', [policyFile], { encoding: 'utf8' })) as Record<string, unknown>;
  writeFileSync(
    policyFile,
    JSON.stringify({ ...policy, jailer: '/usr/bin/true', firecracker: '/usr/bin/firecracker', jailBase: base }),
  );
  chmodSync(policyFile, 0o644);
  const files = names.join(' ');
  // Each round: the jailer's layout (root's jail dir, the user's chroot), the user's dir a with
  // files and their symlink l to root's victim dir (same names), then jail-rm as the user.
  const script = `
    cd ${victim} && touch ${files}
    lost=0
    for i in $(seq ${ROUNDS}); do
      mkdir -p ${jail}/root/a && (cd ${jail}/root/a && touch ${files}) && ln -sfn ${victim} ${jail}/root/l
      chown -R ${u!.user}: ${jail}/root && chown -h ${u!.user}: ${jail}/root/l
      ${asUserWords(u!)} jail-rm ${jail} >/dev/null 2>&1; echo $?
      for f in ${files}; do [ -e ${victim}/$f ] || { lost=$((lost+1)); touch ${victim}/$f; }; done
      rm -rf --one-file-system ${jail}
    done
    echo lost=$lost >&2`;
  const ex = startExchanger(u!, join(jail, 'root', 'a'), join(jail, 'root', 'l'));
  const r = await rootScript(u!, script);
  const swaps = await ex.stop();
  const calls = histogram(r.stdout);
  note(`race 2: ${swaps} swaps, exit codes ${calls}${r.stderr.match(/lost=\d+/)?.[0] ?? ''}`);
  assert.ok(swaps > 1000, `the exchange loop ran (${swaps} swaps)`);
  assert.match(r.stderr, /lost=0\b/, `no file of root's outside the jail was deleted (${r.stderr.trim()}; ${calls})`);
  assert.equal(readdirSync(victim).sort(), names, "root's files are all there");
  assert.ok(/(^| )0:/.test(calls), `some rounds removed the jail (${calls})`);
});

it(`finding 3: debootstrap-image's hand-back against a dir/symlink exchange loop, ${ROUNDS} builds: nothing lands in root's dir`, async ({
  u,
}) => {
  // A stand-in debootstrap (a tree in no time), bound over the real one in the user's mount
  // namespace only: the entry point still runs the real mkfs.ext4 and the hand-back.
  await u!.privateDevices({ kvm: false });
  const fake = join(u!.scratch, 'debootstrap');
  writeFileSync(
    fake,
    '#!/bin/sh\nset -e\nmkdir -p "$5/var/cache/apt/archives" "$5/etc"\necho stand-in > "$5/etc/hostname"\n',
  );
  chmodSync(fake, 0o755);
  sh(['nsenter', '--mount', `--target=${u!.mntPid}`, '--', 'mount', '--bind', fake, '/usr/sbin/debootstrap']);
  const root = rootOnly(u!, 'handback-target');
  const { d, l } = racePair(u!, root);
  const ex = startExchanger(u!, d, l);
  const out = (i: string) => join(d, `img-${i}.ext4`);
  // The user clears their images between builds (as root, a glob through the swapped link
  // would delete what the attack put in root's dir and hide it).
  const r = await rootScript(
    u!,
    `for i in $(seq ${ROUNDS}); do ${asUserWords(u!)} debootstrap-image bookworm http://127.0.0.1:9/debian tzdata ${out('$i')} >/dev/null 2>&1; echo $?; runuser -u ${u!.user} -- sh -c 'rm -f ${d}/img-*.ext4'; done`,
  );
  const swaps = await ex.stop();
  const calls = histogram(r.stdout);
  note(`race 3: ${swaps} swaps, exit codes ${calls}${r.stderr.match(/lost=\d+/)?.[0] ?? ''}`);
  assert.ok(swaps > 1000, `the exchange loop ran (${swaps} swaps)`);
  assert.equal(readdirSync(root), [], `no file was created in root's dir (${calls})`);
  assert.ok(/(^| )0:/.test(calls), `some builds were handed back (${calls})`);
});

it('an attack beside them: jail-rm stopped mid-way by SIGTERM to sudo touches nothing outside; the next one finishes', async ({
  u,
  base,
}) => {
  const jail = join(base, 'firecracker', 'sigjail1');
  const victim = join(base, 'victim-sig');
  sh(['install', '-d', '-o', 'root', '-g', 'root', '-m', '0700', victim]);
  writeFileSync(join(victim, 'keep'), 'x');
  const tree = join(jail, 'root', 'a');
  sh(['bash', '-c', `mkdir -p ${tree}/{1..40} && touch ${tree}/{1..40}/f{1..100} && ln -s ${victim} ${jail}/root/l`]);
  sh(['chown', '-R', `${u!.user}:${u!.user}`, join(jail, 'root')]);
  sh(['chown', '-h', `${u!.user}:${u!.user}`, join(jail, 'root', 'l')]);
  const call = `sudo -n -- ${u!.entry} jail-rm ${jail}`;
  // The signal lands once the first of the 40 dirs is gone: mid-removal.
  const count = `$(ls ${tree} 2>/dev/null | wc -l)`;
  const until = `for i in $(seq 2000); do [ ${count} -lt 40 ] && break; sleep 0.005; done`;
  const r = await u!.asUser([
    'bash',
    '-c',
    `${call} & s=$!; ${until}; kill -TERM $s; wait $s; echo "rc=$? left=${count}"`,
  ]);
  note(`signalled jail-rm: ${r.stdout.trim()} ${r.stderr.trim()}`);
  assert.ok(existsSync(join(victim, 'keep')), "root's file outside the jail is there");
  code(await u!.asUser(['bash', '-c', call]), 0, 'jail-rm again');
  assert.not.ok(existsSync(jail), 'the jail is gone');
  assert.ok(existsSync(join(victim, 'keep')));
});

t.run();
