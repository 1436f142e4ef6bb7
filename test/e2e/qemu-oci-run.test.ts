// test-run: group guest (boots a QEMU guest under TCG: one guest at a time, beside the unit files, so it keeps a core)
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
import { banger, json, killByEnv, Netns, ok, qemuEnv, readOr, run, waitFor, type RunResult } from './harness.js';
import { createRunner } from '../../app/base/process.js';
import { DebCache } from '../../app/engine/images/debs.js';
import { BUSYBOX_PACKAGES, DROPBEAR_PACKAGES } from '../../app/engine/images/busybox-rootfs.js';
import { CLOUD_KERNEL_META } from '../../app/engine/images/kernel-service.js';
import type { BuildJob } from '../../app/engine/images/job.js';
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

/**
 * Root namespace: the Debian packages the namespace's engine needs (the cloud kernel, busybox,
 * dropbear) into the shared package cache, so nothing inside the namespace needs the network.
 */
async function warmPackages(cacheDir: string): Promise<void> {
  const runner = createRunner();
  const job = { run: runner.run.bind(runner), log: () => undefined, signal: undefined } as unknown as BuildJob;
  const dep = await runner.run(['apt-cache', 'depends', CLOUD_KERNEL_META], { reject: false });
  const kernel = /Depends: (linux-image-\S+-cloud-amd64)/.exec(dep.stdout)?.[1];
  await new DebCache(cacheDir).fetch([...(kernel ? [kernel] : []), ...BUSYBOX_PACKAGES, ...DROPBEAR_PACKAGES], job);
}

/** Inside the namespace: the registry, the image pushed to it and imported by banger. */
async function importFromRegistry(ns: Netns, root: string, layout: string, b: B): Promise<ImageRecord> {
  mkdirSync(join(root, 'registry'));
  registry = await startRegistry(ns.name, join(root, 'registry'), REGISTRY_PORT);
  const ref = `docker://${registry.host}/ocirun/app:1`;
  ok(await ns.run(['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:1`, ref]), 'skopeo copy');
  const t = Date.now();
  const img = json<ImageRecord>(
    ok(await b(['image', 'import', 'app', ref, '--tls-verify=false', '--json'], 180_000), 'image import'),
    'image import',
  );
  figures.push(`image import from the registry: ${Date.now() - t} ms`);
  return img;
}

type B = (args: string[], timeoutMs?: number) => Promise<RunResult>;
let registry: Registry | null = null;

/** The service: answers HTTP, is restarted after kill -9 (a second marker), with a new pid. */
async function restartChecks(ssh: (cmd: string) => Promise<RunResult>, get: () => Promise<RunResult>, log: string) {
  const pid1 = Number(ok(await ssh('cat /run/banger/run/service.pid'), 'pid').stdout.trim());
  assert.ok(pid1 > 1, 'the service pid');
  assert.is(ok(await get(), 'wget the service').stdout, 'served-by-run\n');
  const t = Date.now();
  ok(await ssh(`kill -9 ${pid1}`), 'kill the service');
  await waitFor('the restart', () => (readOr(log).split(MARKER).length - 1 >= 2 ? true : null), 20_000, 100);
  figures.push(`kill to restarted: ${Date.now() - t} ms`);
  assert.match(readOr(log), /\[run\] exited with status 137 after \d+s; restarting in 1s/);
  const pid2 = Number(ok(await ssh('cat /run/banger/run/service.pid'), 'pid').stdout.trim());
  assert.ok(pid2 > 1 && pid2 !== pid1, `a new service process: ${pid1} -> ${pid2}`);
  await waitFor('the service again', async () => ((await get()).code === 0 ? true : null), 10_000, 200);
}

const MARKER = '[run] OCIRUN-MARKER hello from oci in /opt/srv as 65534';

e2e('an OCI image without init from a real registry: --run service, ssh by name, restart, stop', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-ocirun-'));
  const base = qemuEnv(root, 'ocirun');
  const paths = resolvePaths(base);
  let ns: Netns | null = null;
  const t0 = Date.now();
  try {
    await warmPackages(base.BANGER_CACHE_DIR);
    const layout = await buildLayout(root);
    figures.push(`package cache and the OCI layout: ${Date.now() - t0} ms`);

    ns = await Netns.create(NS);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: `127.0.0.1:${DNS_PORT}` };
    const b: B = (args, timeoutMs = 60_000) => banger(ns, args, env, timeoutMs);
    ok(await b(['status']), 'engine start'); // one engine for both jobs below
    const tk = Date.now();
    const [kernel, img] = await Promise.all([
      b(['kernel', 'fetch', 'deb'], 300_000).finally(() =>
        figures.push(`kernel fetch (cached): ${Date.now() - tk} ms`),
      ),
      importFromRegistry(ns, root, layout, b),
    ]);
    ok(kernel, 'kernel fetch (from the package cache)');
    assert.equal(img.config?.entrypoint, ['/opt/srv/busybox', 'sh', '-c']);

    const t2 = Date.now();
    const vm = json<VmRecord>(
      ok(
        await b(['vm', 'create', 'web', '--image', 'app', '--disk', '256M', '--run', '--start', '--json'], 90_000),
        'create --run',
      ),
      'vm create',
    );
    assert.is(vm.run, true);
    const log = vmPaths(paths, vm.id).consoleLog;
    await waitFor(
      'the --run marker and BANGER_READY on the console',
      () => {
        const text = readOr(log);
        if (/Kernel panic|initramfs: (no root|failed)/.test(text))
          throw new Error(`boot failed:\n${text.slice(-2000)}`);
        return text.includes(MARKER) && /BANGER_READY/.test(text) ? true : null;
      },
      90_000,
      200,
    );
    figures.push(`create --run --start to the marker: ${Date.now() - t2} ms`);

    // web.vm through banger's DNS, and ssh (banger's key) at the address it gives.
    const dig = await ns.run(['dig', '+short', '+time=2', '+tries=2', '-p', String(DNS_PORT), '@127.0.0.1', 'web.vm']);
    const ip = dig.stdout.trim();
    assert.is(ip, vm.ip, 'web.vm resolves to the VM');
    const sshArgs = ['-i', paths.sshKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    const ssh = (cmd: string) =>
      ns!.run(['ssh', ...sshArgs, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `root@${ip}`, cmd], {
        timeoutMs: 30_000,
      });
    const who = ok(await ssh('hostname; id -u; ls -l /sbin/init'), 'ssh web.vm');
    assert.match(who.stdout, /^web\n0\n/);
    assert.match(who.stdout, /\/sbin\/init -> \/bin\/busybox/, 'banger booted the image with busybox init');
    const get = () => ns!.run(['busybox', 'wget', '-q', '-O-', `http://${ip}:8080/`], { timeoutMs: 15_000 });
    await restartChecks(ssh, get, log);

    // Shutdown stops the service first (busybox inittab's shutdown action).
    const st = json<VmRecord>(ok(await b(['vm', 'stop', 'web', '--json'], 60_000), 'vm stop'), 'vm stop');
    assert.is(st.state, 'stopped');
    assert.match(readOr(log), /\[run\] stopped/);
  } finally {
    if (registry) await registry.stop().catch(() => undefined);
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
