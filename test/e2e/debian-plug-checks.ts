// The shared-folder and first-boot checks of debian-plugs.ts, on the one Debian guest of
// debian.test.ts, run by its created user. Each guest-side fact list is one `vm exec` (a round
// trip under TCG costs seconds).
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MountSpec } from '../../app/contract/api.js';
import { vmPaths } from '../../app/base/paths.js';
import { uidOf } from '../priv/user-fixture.js';
import type { DebianCtx } from './debian-plugs.js';
import { cmdlineOf, ok, readOr } from './harness.js';

const exec = async (ctx: DebianCtx, script: string): Promise<string> =>
  ok(await ctx.cli.b(['vm', 'exec', 'deb', '--', 'sh', '-c', script], 90_000), `exec ${script}`).stdout;

const consoleLog = (ctx: DebianCtx): string => readOr(vmPaths(ctx.u.paths, ctx.vm!.id).consoleLog);

// --- shared folders ---------------------------------------------------------------------------

const rwDir = (ctx: DebianCtx) => join(ctx.work, 'share-rw');
const roDir = (ctx: DebianCtx) => join(ctx.work, 'share-ro');

export async function mountArgs(ctx: DebianCtx): Promise<string[]> {
  mkdirSync(rwDir(ctx));
  mkdirSync(roDir(ctx));
  writeFileSync(join(roDir(ctx), 'keep'), 'keep me\n');
  await ctx.cli.own(rwDir(ctx));
  await ctx.cli.own(roDir(ctx));
  return ['--mount', `${rwDir(ctx)}:/mnt/rw`, '--mount', `${roDir(ctx)}:/mnt/ro:ro`];
}

export async function mountCheck(ctx: DebianCtx): Promise<void> {
  const rw = rwDir(ctx);
  const ro = roDir(ctx);
  assert.match(consoleLog(ctx), /banger-mounts: m1 on \/mnt\/ro \(ro\)/, "banger-seed's 20-mounts on Debian");
  ok(await ctx.cli.sh(`echo host says hi > ${rw}/from-host`), 'the user writes a host file');
  const seen = await exec(
    ctx,
    [
      'cat /mnt/rw/from-host',
      'stat -c "%u %a" /mnt/rw/from-host',
      'echo guest says hi > /mnt/rw/from-guest && chmod 640 /mnt/rw/from-guest',
      'cat /mnt/ro/keep',
      '(echo no > /mnt/ro/new) 2>/dev/null || echo REFUSED',
      'rm -f /mnt/ro/keep 2>/dev/null || echo KEPT',
      'grep -c " virtiofs " /proc/mounts',
    ].join('; '),
  );
  assert.is(seen, 'host says hi\n0 644\nkeep me\nREFUSED\nKEPT\n2\n', "the user's file, root's in the guest; ro holds");
  assert.is(readFileSync(join(rw, 'from-guest'), 'utf8'), 'guest says hi\n', "the guest's file on the host");
  const st = statSync(join(rw, 'from-guest'));
  assert.is(st.uid, ctx.u.uid, "what the guest's root made is the user's on the host");
  assert.is((st.mode & 0o777).toString(8), '640', 'with the mode the guest gave it');
  assert.equal(readdirSync(ro), ['keep'], 'nothing written or removed in the ro folder');
  // The folder servers are the user's processes, one per folder.
  const servers = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => cmdlineOf(p).includes(`--socket-path=${vmPaths(ctx.u.paths, ctx.vm!.id).dir}`));
  assert.ok(servers.length >= 2, `a virtiofsd for each folder: ${servers.join(' ')}`);
  for (const p of servers) assert.is(uidOf(p), ctx.u.uid, `virtiofsd ${p} runs as the user`);
  const ls = JSON.parse(ok(await ctx.cli.b(['vm', 'mount', 'ls', 'deb', '--json']), 'mount ls').stdout) as MountSpec[];
  assert.equal(
    ls.map((m) => [m.tag, m.guestDir, m.readOnly]),
    [
      ['m0', '/mnt/rw', false],
      ['m1', '/mnt/ro', true],
    ],
  );
}

// --- first-boot config ------------------------------------------------------------------------

const PAGE = 'hello from user-data on Debian';
const PORT = 8080;
// Debian's minbase has perl-base (IO::Socket::INET) but no python3, busybox or nc: the service
// is a perl one-page HTTP server, written by write_files, started by runcmd in the background
// (as docs/first-boot.md says to: a runcmd that does not return holds the boot).
const SERVER = `#!/usr/bin/perl
use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalPort => ${PORT}, Listen => 5, ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) {
  my $req = <$c>;
  open(my $f, '<', '/srv/www/index.html') or die "page: $!";
  my $page = do { local $/; <$f> };
  print $c "HTTP/1.0 200 OK\\r\\nContent-Length: " . length($page) . "\\r\\n\\r\\n" . $page;
  close $c;
}
`;
const USER_DATA = `#cloud-config
write_files:
  - path: /srv/www/index.html
    content: ${PAGE}
    permissions: '0640'
  - path: /usr/local/bin/hello-http
    permissions: '0755'
    content: |
${SERVER.replace(/^/gm, '      ').trimEnd()}
runcmd:
  - [sh, -c, "nohup /usr/local/bin/hello-http >/var/log/hello-http.log 2>&1 &"]
  - echo once >> /root/once
`;

const keyPath = (ctx: DebianCtx, name: string) => join(ctx.work, name);

export async function seedArgs(ctx: DebianCtx): Promise<string[]> {
  const ud = join(ctx.work, 'user-data.yaml');
  writeFileSync(ud, USER_DATA);
  const keygen = (name: string) =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `deb-${name}`, '-f', keyPath(ctx, name)]);
  keygen('id_given');
  keygen('id_other'); // never given: refused
  for (const f of [ud, ...['id_given', 'id_given.pub', 'id_other', 'id_other.pub'].map((k) => keyPath(ctx, k))])
    await ctx.cli.own(f);
  return ['--user-data', ud, '--ssh-key', `${keyPath(ctx, 'id_given')}.pub`];
}

/** `ssh -i KEY root@IP CMD` as the user, in their netns, with that identity alone. */
const sshWith = (ctx: DebianCtx, key: string, cmd: string) =>
  ctx.u.asUser(
    [
      'ssh',
      '-i',
      keyPath(ctx, key),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=20',
      `root@${ctx.vm!.ip}`,
      cmd,
    ],
    { timeoutMs: 60_000 },
  );

export async function seedCheck(ctx: DebianCtx): Promise<void> {
  const log = consoleLog(ctx);
  assert.match(log, /banger-seed: 10-keys\.sh ok/);
  assert.match(log, /banger-seed: 30-firstboot\.sh ok/);
  // The service is asked a few times: it listens once perl has started, in the background.
  const get =
    `for i in 1 2 3 4 5 6 7 8 9 10; do out=$(bash -c 'exec 3<>/dev/tcp/127.0.0.1/${PORT} && ` +
    `printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3' 2>/dev/null) && break; sleep 1; done; ` +
    'printf "%s" "$out" | tail -n 1; echo';
  const facts = await exec(
    ctx,
    [
      'cat /srv/www/index.html; echo',
      'stat -c %a /srv/www/index.html',
      get,
      'cat /root/once',
      `test -e /var/lib/banger/firstboot/${ctx.vm!.id} && echo marked`,
      'systemctl is-active banger-seed.service',
    ].join('; '),
  );
  assert.is(
    facts,
    `${PAGE}\n640\n${PAGE}\nonce\nmarked\nactive\n`,
    'write_files wrote the page, runcmd started the server (still up after the boot) and ran once',
  );
  const own = await sshWith(ctx, 'id_given', 'id -u; grep -c deb-id_given /root/.ssh/authorized_keys');
  assert.is(own.code, 0, `ssh -i with the --ssh-key key: ${own.stderr}`);
  assert.is(own.stdout, '0\n1\n');
  const other = await sshWith(ctx, 'id_other', 'true');
  assert.is(other.code, 255, `a key never given is refused: ${other.stdout}${other.stderr}`);
  assert.match(other.stderr, /Permission denied/);
}
