// bench/oci-boot.ts (run by bench/oci-boot.sh inside a network namespace, engine started): time
// from a start request to the first ssh that runs a command, for a VM of an OCI image imported
// from Debian's docker-registry on this namespace's loopback (busybox and dropbear injected,
// its Entrypoint run with --run) against a VM of the busybox image the rig built ("bench").
// Runs alternate so host drift hits both equally; the first boot of each is a warm-up.
//
//   node --import tsx bench/oci-boot.ts [--iterations 3]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../app/control/client.js';
import { resolvePaths } from '../app/base/paths.js';
import type { VmRecord } from '../app/contract/api.js';

const args = process.argv.slice(2);
const iterations = Math.max(1, Number(args[args.indexOf('--iterations') + 1] || 3) || 3);
const paths = resolvePaths(process.env);
const work = mkdtempSync(join(tmpdir(), 'banger-bench-oci-'));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function must(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status} ${r.stderr}`);
  return r.stdout;
}

/** A scratch OCI layout (tag 1): a static busybox at /opt/srv and an httpd Entrypoint. */
function buildLayout(): string {
  const layout = join(work, 'layout');
  const bundle = join(work, 'bundle');
  must(['umoci', 'init', '--layout', layout]);
  must(['umoci', 'new', '--image', `${layout}:1`]);
  must(['umoci', 'unpack', '--image', `${layout}:1`, bundle]);
  mkdirSync(join(bundle, 'rootfs/opt/srv/www'), { recursive: true });
  copyFileSync('/bin/busybox', join(bundle, 'rootfs/opt/srv/busybox'));
  writeFileSync(join(bundle, 'rootfs/opt/srv/www/index.html'), 'bench\n');
  must(['umoci', 'repack', '--image', `${layout}:1`, bundle]);
  must([
    'umoci',
    'config',
    '--image',
    `${layout}:1`,
    '--config.entrypoint',
    '/opt/srv/busybox',
    '--config.cmd',
    'httpd',
    '--config.cmd',
    '-f',
    '--config.cmd',
    '-p',
    '--config.cmd',
    '8080',
    '--config.cmd',
    '-h',
    '--config.cmd',
    '/opt/srv/www',
  ]);
  return layout;
}

async function startRegistry(): Promise<{ host: string; child: ChildProcess }> {
  const dir = join(work, 'registry');
  mkdirSync(dir);
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/storage\nhttp:\n  addr: 127.0.0.1:5000\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const r = spawnSync('busybox', ['wget', '-q', '-O-', 'http://127.0.0.1:5000/v2/'], { encoding: 'utf8' });
    if (r.status === 0) return { host: '127.0.0.1:5000', child };
    await sleep(25);
  }
  child.kill();
  throw new Error('docker-registry did not answer');
}

/** ms from the start request to the first ssh that runs `true`. */
async function toFirstSsh(e: ControlClient, name: string): Promise<number> {
  const t0 = performance.now();
  const vm: VmRecord = await e.startVm(name);
  const ssh = [
    '-i',
    paths.sshKey,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=1',
    '-o',
    'LogLevel=ERROR',
    `root@${vm.ip}`,
    'true',
  ];
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    if (spawnSync('ssh', ssh, { stdio: 'ignore' }).status === 0) {
      const ms = performance.now() - t0;
      await e.stopVm(name, { force: true });
      return ms;
    }
    await sleep(50);
  }
  throw new Error(`${name}: no ssh within 120 s`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const layout = buildLayout();
  const reg = await startRegistry();
  const e = await ControlClient.connect(paths.controlSocket);
  try {
    const ref = `docker://${reg.host}/bench/app:1`;
    must(['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:1`, ref]);
    let t = performance.now();
    await e.importImage({ name: 'oci', path: ref, tlsVerify: false });
    const importMs = performance.now() - t;
    t = performance.now();
    await e.importImage({ name: 'oci2', path: ref, tlsVerify: false });
    const reimportMs = performance.now() - t;
    await e.createVm({ name: 'bb', image: 'bench', backend: 'qemu' });
    await e.createVm({ name: 'oci', image: 'oci', backend: 'qemu', run: true });
    await toFirstSsh(e, 'bb'); // warm-up: host keys made, caches filled
    await toFirstSsh(e, 'oci');
    const bb: number[] = [];
    const oci: number[] = [];
    for (let i = 0; i < iterations; i++) {
      bb.push(await toFirstSsh(e, 'bb'));
      oci.push(await toFirstSsh(e, 'oci'));
    }
    for (const n of ['bb', 'oci']) await e.removeVm(n, { force: true });
    const fmt = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(' ');
    const mb = median(bb);
    const mo = median(oci);
    console.log(
      `import from the local registry: ${(importMs / 1000).toFixed(2)} s; again (layer cache): ${(reimportMs / 1000).toFixed(2)} s`,
    );
    console.log(`busybox image (start -> first ssh): ${fmt(bb)} s, median ${(mb / 1000).toFixed(2)} s`);
    console.log(`OCI image --run (start -> first ssh): ${fmt(oci)} s, median ${(mo / 1000).toFixed(2)} s`);
    console.log(`ratio oci/busybox: ${(mo / mb).toFixed(3)}`);
  } finally {
    await e.close();
    reg.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
