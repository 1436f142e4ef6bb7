// test-run: alone (boots a QEMU guest under TCG: its boot timeout assumes a core of its own)
// Issue 27 on a real guest, one boot: an OCI image with no init, no shell and no sshd (a static
// busybox at /opt/srv, an Entrypoint+Cmd that prints a marker and serves HTTP, Env, WorkingDir,
// a numeric User), built with umoci, pushed by skopeo to Debian's docker-registry on loopback in
// a namespace made here, imported from there (`image import NAME docker://...`), then `vm create
// --run --start`: NAME.vm resolves through banger's DNS and ssh answers at that address, the
// --run output is on the console log ("[run] " prefix) with the image's Env, WorkingDir and
// User, the service answers HTTP, is restarted after it is killed, and is stopped at shutdown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { ImageRecord, VmRecord } from '../../app/contract/api.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { banger, json, killByEnv, Netns, ok, qemuEnv, readOr, run, waitFor } from './harness.js';
import { startRegistry, type Registry } from '../engine/images/oci/registry.js';

const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['ssh', 'openssh-client'],
  ['dig', 'dnsutils'],
  ['ip', 'iproute2'],
  ['setsid', 'util-linux'],
  ['apt-get', 'apt'],
  ['skopeo', 'skopeo'],
  ['umoci', 'umoci'],
  ['docker-registry', 'docker-registry'],
  ['busybox', 'busybox-static'],
]
  .filter(([bin]) => !which(bin, `${process.env.PATH}:/usr/sbin:/sbin`))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const skip = firstReason(missingReason(missing), NEEDS_ROOT);
const e2e = runIf(test, skip);
const NS = `banger-ocirun-${process.pid}`;
const DNS_PORT = 10053;
const REGISTRY_PORT = 5000;
const figures: string[] = [];
const SERVICE = 'echo "OCIRUN-MARKER $GREETING in $(pwd) as $(id -u)"; exec busybox httpd -f -p 8080 -h /opt/srv/www';

/** An OCI layout (tag "1") of a scratch image: /opt/srv/busybox (static), its www, and a config. */
async function buildLayout(dir: string): Promise<string> {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'bundle');
  const image = `${layout}:1`;
  const u = async (args: string[]) => ok(await run(['umoci', ...args]), `umoci ${args[0]}`);
  await u(['init', '--layout', layout]);
  await u(['new', '--image', image]);
  await u(['unpack', '--image', image, bundle]);
  mkdirSync(join(bundle, 'rootfs/opt/srv/www'), { recursive: true });
  copyFileSync('/bin/busybox', join(bundle, 'rootfs/opt/srv/busybox'));
  writeFileSync(join(bundle, 'rootfs/opt/srv/www/index.html'), 'served-by-run\n');
  await u(['repack', '--image', image, bundle]);
  await u([
    'config',
    '--image',
    image,
    ...['--config.entrypoint', '/opt/srv/busybox', '--config.entrypoint', 'sh', '--config.entrypoint', '-c'],
    ...['--config.cmd', SERVICE],
    ...['--config.env', 'GREETING=hello from oci', '--config.env', 'PATH=/opt/srv:/usr/bin:/bin'],
    ...['--config.workingdir', '/opt/srv', '--config.user', '65534:65534', '--config.exposedports', '8080/tcp'],
  ]);
  return layout;
}

e2e('an OCI image without init from a real registry: --run service, ssh by name, restart, stop', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-ocirun-'));
  const base = qemuEnv(root, 'ocirun');
  const paths = resolvePaths(base);
  let ns: Netns | null = null;
  let reg: Registry | null = null;
  const t0 = Date.now();
  const lap = (what: string, since: number) => figures.push(`${what}: ${Date.now() - since} ms`);
  try {
    // Root namespace, no host network: the kernel (apt, cached); the image layout (files only).
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    ok(await banger(null, ['kernel', 'fetch', 'deb'], build, 300_000), 'kernel fetch');
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');
    const layout = await buildLayout(root);

    ns = await Netns.create(NS);
    reg = await startRegistry(NS, join(root, 'registry'), REGISTRY_PORT);
    const ref = `docker://${reg.host}/ocirun/app:1`;
    ok(await ns.run(['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:1`, ref]), 'skopeo copy');
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: `127.0.0.1:${DNS_PORT}` };
    const b = (args: string[], timeoutMs = 60_000) => banger(ns, args, env, timeoutMs);
    const t1 = Date.now();
    const img = json<ImageRecord>(
      ok(await b(['image', 'import', 'app', ref, '--tls-verify=false', '--json'], 180_000), 'image import'),
      'image import',
    );
    lap('image import from the registry', t1);
    assert.equal(img.config?.entrypoint, ['/opt/srv/busybox', 'sh', '-c']);

    const t2 = Date.now();
    const vm = json<VmRecord>(
      ok(await b(['vm', 'create', 'web', '--image', 'app', '--run', '--start', '--json'], 90_000), 'create --run'),
      'vm create',
    );
    assert.is(vm.run, true);
    const log = vmPaths(paths, vm.id).consoleLog;
    const marker = `[run] OCIRUN-MARKER hello from oci in /opt/srv as 65534`;
    await waitFor(
      'the --run marker and BANGER_READY on the console',
      () => {
        const text = readOr(log);
        if (/Kernel panic|initramfs: (no root|failed)/.test(text))
          throw new Error(`boot failed:\n${text.slice(-2000)}`);
        return text.includes(marker) && /BANGER_READY/.test(text) ? true : null;
      },
      90_000,
      200,
    );
    lap('create --run --start to marker', t2);

    // web.vm through banger's DNS, and ssh (banger's key) at the address it gives.
    const dig = await ns.run(['dig', '+short', '+time=2', '+tries=2', '-p', String(DNS_PORT), '@127.0.0.1', 'web.vm']);
    const ip = dig.stdout.trim();
    assert.is(ip, vm.ip, 'web.vm resolves to the VM');
    const sshArgs = ['-i', paths.sshKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    const ssh = (cmd: string) =>
      ns!.run(['ssh', ...sshArgs, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `root@${ip}`, cmd], {
        timeoutMs: 30_000,
      });
    const who = ok(await ssh('hostname; id -u; ls -l /sbin/init; cat /run/banger/run/service.pid'), 'ssh web.vm');
    assert.match(who.stdout, /^web\n0\n/);
    assert.match(who.stdout, /\/sbin\/init -> \/bin\/busybox/, 'banger booted the image with busybox init');
    const pid1 = Number(who.stdout.trim().split('\n').pop());
    assert.ok(pid1 > 1, 'the service pid');

    // The service answers, from the namespace, at web.vm's address.
    const get = () => ns!.run(['busybox', 'wget', '-q', '-O-', `http://${ip}:8080/`], { timeoutMs: 15_000 });
    assert.is(ok(await get(), 'wget the service').stdout, 'served-by-run\n');

    // Killed: the supervisor says so and starts it again (a second marker), and it answers again.
    const t3 = Date.now();
    ok(await ssh(`kill -9 ${pid1}`), 'kill the service');
    await waitFor('the restart', () => (readOr(log).split(marker).length - 1 >= 2 ? true : null), 20_000, 100);
    lap('kill to restarted', t3);
    assert.match(readOr(log), /\[run\] exited with status 137 after \d+s; restarting in 1s/);
    const pid2 = Number(ok(await ssh('cat /run/banger/run/service.pid'), 'pid').stdout.trim());
    assert.ok(pid2 > 1 && pid2 !== pid1, `a new service process: ${pid1} -> ${pid2}`);
    await waitFor('the service again', async () => ((await get()).code === 0 ? true : null), 10_000, 200);

    // Shutdown stops the service first (busybox inittab's shutdown action).
    const st = json<VmRecord>(ok(await b(['vm', 'stop', 'web', '--json'], 60_000), 'vm stop'), 'vm stop');
    assert.is(st.state, 'stopped');
    assert.match(readOr(log), /\[run\] stopped/);
    ok(await b(['engine', 'stop', '--stop-vms'], 60_000), 'engine stop');
  } finally {
    if (reg) await reg.stop().catch(() => undefined);
    if (ns) await ns.destroy();
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e qemu-oci-run: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    figures.push(`total: ${Date.now() - t0} ms`);
    for (const f of figures) console.log(`e2e qemu-oci-run: ${f}`);
  }
});

if (!skip)
  test.before(async () => {
    await run(['ip', 'netns', 'delete', NS]).catch(() => undefined);
  });

test.run();
