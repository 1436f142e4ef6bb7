// A registry behind htpasswd basic auth (Debian's docker-registry on loopback in a namespace
// made here): credentials from $XDG_RUNTIME_DIR/containers/auth.json (podman's) and, for a
// real unprivileged user importing through the CLI and its own engine, ~/.docker/config.json.
// The user's import keeps the image's owners and devices without root (mkfs in a user
// namespace, debugfs on the image file).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from '../../../../app/engine/images/image-service.js';
import { which } from '../../../../app/base/process.js';
import { testCacheDir } from '../../../helpers/cache.js';
import { collect } from '../../../helpers/collect.js';
import { reachableRoot } from '../../../helpers/reachable.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../../../helpers/skip.js';
import { Netns } from '../../../e2e/harness.js';
import { makeEnv, debugfsStat, type Env } from '../helpers.js';
import { addImage, tagLayout, busyboxLayers, BUSYBOX_CONFIG } from './fixtures.js';
import { startRegistry, type Registry } from './registry.js';
import { code, inNetns } from './helpers.js';

const TOOLS = ['skopeo', 'docker-registry', 'htpasswd', 'debugfs', 'useradd', 'runuser', 'unshare'];
const reason = firstReason(
  NEEDS_ROOT,
  missingReason(TOOLS.filter((b) => !which(b, `${process.env.PATH}:/usr/sbin:/sbin`))),
);
const it = runIf(test, reason);

let env: Env;
let ns: Netns;
let reg: Registry;
let dir: string;
const user = `bgoci${process.pid % 100000}`;
const auth = (u: string, p: string) =>
  JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${u}:${p}`).toString('base64') } } });

async function setup(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'banger-oci-auth-'));
  chmodSync(dir, 0o755);
  env = makeEnv();
  ns = await Netns.create(`banger-ociauth-${process.pid}`);
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', 'alice', 's3cret'], { encoding: 'utf8' }));
  reg = await startRegistry(ns.name, dir, 5000, { htpasswd });
  const layout = join(dir, 'layout');
  tagLayout(layout, { busybox: await addImage(layout, { layers: busyboxLayers(), config: BUSYBOX_CONFIG }) });
  const r = await ns.run([
    'skopeo',
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    '--dest-creds',
    'alice:s3cret',
    `oci:${layout}:busybox`,
    `docker://${reg.host}/busybox:latest`,
  ]);
  if (r.code !== 0) throw new Error(`skopeo copy: ${r.stderr}`);
}

// uvu drops an error thrown by a hook without a word: say it, then fail every test.
test.before(() => (reason ? undefined : setup().catch((e) => (console.error('setup failed:', e), Promise.reject(e)))));

test.after(async () => {
  if (reason) return;
  spawnQuiet(['pkill', '-KILL', '-u', user]);
  spawnQuiet(['userdel', '-r', user]);
  await reg?.stop();
  await ns?.destroy();
  env?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function spawnQuiet(argv: string[]): void {
  try {
    execFileSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  } catch {
    /* absent */
  }
}

it("podman's auth file: a wrong password and no credentials are E_REGISTRY_AUTH; the right one imports", async () => {
  const runtime = join(dir, 'xdg');
  mkdirSync(join(runtime, 'containers'), { recursive: true });
  const svc = new ImageService({
    ...env.deps,
    runner: inNetns(env.runner, ns.name, { XDG_RUNTIME_DIR: runtime, HOME: join(dir, 'nohome') }),
  });
  const ref = `docker://${reg.host}/busybox:latest`;
  assert.is(await code(svc.import({ name: 'anon', path: ref, tlsVerify: false })), 'E_REGISTRY_AUTH');
  writeFileSync(join(runtime, 'containers/auth.json'), auth('alice', 'wrong'));
  assert.is(await code(svc.import({ name: 'wrong', path: ref, tlsVerify: false })), 'E_REGISTRY_AUTH');
  assert.is(env.store.getImage('wrong'), null);
  writeFileSync(join(runtime, 'containers/auth.json'), auth('alice', 's3cret'));
  const img = await svc.import({ name: 'right', path: ref, tlsVerify: false });
  assert.is(img.config?.workingDir, '/srv');
});

it('a real unprivileged user imports with ~/.docker/config.json through the CLI: owners and devices kept', async () => {
  execFileSync('useradd', ['-M', '-d', join(dir, 'home'), '-s', '/bin/sh', user]);
  const home = join(dir, 'home');
  mkdirSync(join(home, '.docker'), { recursive: true });
  writeFileSync(join(home, '.docker/config.json'), auth('alice', 's3cret'));
  // The user's package cache starts with the test cache's debs (dropbear), so nothing is downloaded.
  cpSync(join(testCacheDir(), 'debs'), join(home, 'cache/debs'), { recursive: true });
  execFileSync('chown', ['-R', `${user}:${user}`, home]);
  const root = reachableRoot();
  const vars = [
    `HOME=${home}`,
    `BANGER_STATE_DIR=${home}/state`,
    `BANGER_RUNTIME_DIR=${home}/run`,
    `BANGER_CONFIG_DIR=${home}/config`,
    `BANGER_CACHE_DIR=${home}/cache`,
    'XDG_RUNTIME_DIR=',
  ];
  const banger = (...args: string[]) =>
    collect(
      ['ip', 'netns', 'exec', ns.name, 'runuser', '-u', user, '--', 'env', ...vars, join(root, 'bin/banger'), ...args],
      { cwd: root, timeoutMs: 60_000 },
    );
  const r = await banger(
    'image',
    'import',
    'web',
    `docker://${reg.host}/busybox:latest`,
    '--tls-verify=false',
    '--json',
  );
  await banger('engine', 'stop');
  assert.is(r.code, 0, r.stderr);
  const img = JSON.parse(r.stdout) as { path: string; config: { user: string } };
  assert.is(img.config.user, '1000:1000');
  const stat = (p: string) => debugfsStat(env.runner, img.path, p);
  assert.match(await stat('/home/alice/notes'), /User:\s+1000\s+Group:\s+1000\s/);
  assert.match(await stat('/etc/passwd'), /User:\s+0\s+Group:\s+0\s/);
  assert.match(await stat('/root/.ssh/authorized_keys'), /User:\s+0\s+Group:\s+0\s/);
  assert.match(await stat('/dev/null'), /Type: character special[\s\S]*Device major\/minor number: 01:03/);
  assert.match(await stat('/bin/suid'), /Mode:\s+04755/);
});

test.run();
