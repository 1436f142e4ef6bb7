// test-run: group guest (boots a QEMU guest under TCG: one guest per lane, so its boot timeout keeps a core of its own)
// First-boot config on a real QEMU busybox guest, as root inside a throwaway network namespace,
// one boot: `vm create --user-data --ssh-key` with a cloud-config that writes a file (plain and
// b64, a mode), starts busybox httpd from runcmd, sets the hostname and appends from bootcmd.
// Checked through `vm exec`: the files, the service answering, the hostname; the --ssh-key key
// logs in with plain ssh; the seed hook run again (as the next boot would) re-runs bootcmd but
// not the once-per-instance part.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { VmRecord } from '../../app/contract/api.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { banger, json, killByEnv, Netns, ok, qemuEnv, readOr, waitFor, type RunResult } from './harness.js';

const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['ip', 'iproute2'],
  ['setsid', 'util-linux'],
  ['apt-get', 'apt'],
]
  .filter(([bin]) => !which(bin, `${process.env.PATH}:/usr/sbin:/sbin`))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const e2e = runIf(test, firstReason(missingReason(missing), NEEDS_ROOT));
const NS = `banger-fb-${process.pid}`;
const PAGE = 'hello from user-data';

const USER_DATA = `#cloud-config
hostname: fbhost
write_files:
  - path: /srv/www/index.html
    content: ${PAGE}
    permissions: '0640'
  - path: /root/b64
    encoding: b64
    content: ${Buffer.from('bytes\n').toString('base64')}
bootcmd:
  - echo boot >> /root/boots
runcmd:
  - httpd -p 8080 -h /srv/www
  - [sh, -c, "echo once >> /root/once"]
packages: [nginx]
`;

e2e('user-data writes files and starts a service, an --ssh-key key logs in, once per instance', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-fb-'));
  const base = qemuEnv(root, 'firstboot');
  const paths = resolvePaths(base);
  const figures: string[] = [];
  let ns: Netns | null = null;
  try {
    const t0 = Date.now();
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    ok(await banger(null, ['image', 'build', 'bb', '--from', 'busybox'], build, 180_000), 'image build');
    ok(await banger(null, ['kernel', 'fetch', 'deb'], build, 300_000), 'kernel fetch');
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');
    figures.push(`build and fetch ${Date.now() - t0} ms`);

    const ud = join(root, 'user-data.yaml');
    writeFileSync(ud, USER_DATA);
    const key = join(root, 'id_test');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fb-test', '-f', key]);
    ns = await Netns.create(NS);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: '127.0.0.1:10053' };
    const b = (args: string[], ms = 60_000): Promise<RunResult> => banger(ns, args, env, ms);
    const t1 = Date.now();
    const created = ok(
      await b(
        ['vm', 'create', 'g', '--memory', '256', '--user-data', ud, '--ssh-key', `${key}.pub`, '--start', '--json'],
        90_000,
      ),
      'vm create',
    );
    assert.match(created.stderr, /warning: user-data: banger's first-boot runner ignores packages/);
    const vm = json<VmRecord>(created, 'vm create');
    const log = vmPaths(paths, vm.id).consoleLog;
    await waitFor('BANGER_READY', () => (/BANGER_READY/.test(readOr(log)) ? true : null), 120_000, 200);
    figures.push(`create to ready ${Date.now() - t1} ms`);
    assert.match(readOr(log), /banger-seed: 10-keys\.sh ok/);
    assert.match(readOr(log), /banger-seed: 30-firstboot\.sh ok/);

    const exec = async (cmd: string) => ok(await b(['vm', 'exec', 'g', '--', 'sh', '-c', cmd]), `exec ${cmd}`).stdout;
    // One exec for every fact (each costs a round trip under TCG): the files, their mode, the
    // service answering, the hostname, the instance marker, what ran, the key installed.
    const facts = await exec(
      [
        'cat /srv/www/index.html; echo',
        'stat -c %a /srv/www/index.html',
        'cat /root/b64',
        'wget -qO- http://127.0.0.1:8080/; echo',
        'hostname',
        `test -e /var/lib/banger/firstboot/${vm.id} && echo marked`,
        'cat /root/once /root/boots',
        'grep -c fb-test /root/.ssh/authorized_keys',
      ].join('; '),
    );
    assert.is(facts, `${PAGE}\n640\nbytes\n${PAGE}\nfbhost\nmarked\nonce\nboot\n1\n`);

    // The --ssh-key key, not banger's: plain ssh with only that identity.
    const ssh = await ns.run([
      'ssh',
      '-i',
      key,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=10',
      `root@${vm.ip}`,
      'echo in-as-$(id -u)',
    ]);
    assert.is(ssh.stdout, 'in-as-0\n', `ssh with the --ssh-key key: ${ssh.stderr}`);

    // What the next boot does, without a second boot: the hook again (the seed is still vdb):
    // bootcmd runs again, runcmd does not (same instance), the key is not added twice.
    const again = await exec(
      '/etc/banger/seed.sh >/dev/null 2>&1; cat /root/once /root/boots; grep -c fb-test /root/.ssh/authorized_keys',
    );
    assert.is(again, 'once\nboot\nboot\n1\n');
    figures.push(`total ${Date.now() - t0} ms`);
  } finally {
    if (ns) await ns.destroy();
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e first-boot: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    console.log(`e2e first-boot: ${figures.join(', ')}`);
  }
});

if (NEEDS_ROOT === null)
  test.before(async () => {
    await new Netns(NS).destroy().catch(() => undefined);
  });

test.run();
