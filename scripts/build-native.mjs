// npm install hook: compile native/dns-udp (the DNS server's batched UDP path) with node-gyp,
// like better-sqlite3 does. Never fails the install: without a compiler or Node's headers the
// engine serves UDP through node:dgram instead (same answers, lower ceiling), and says so here.
// usage: node scripts/build-native.mjs   (npm run build:native)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native', 'dns-udp');

/** node-gyp: npm's own (on PATH inside npm scripts, or npm_config_node_gyp), else the global npm's. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return [process.execPath, process.env.npm_config_node_gyp];
  }
  try {
    const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
    const js = join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(js)) return [process.execPath, js];
  } catch {
    /* no npm on PATH: try a node-gyp binary */
  }
  return ['node-gyp'];
}

// Headers: npm's nodedir setting when given, else the ones installed beside this node binary
// (distro packages and nvm both ship include/node); node-gyp would otherwise try to download them.
const args = ['rebuild', '--release', `--directory=${dir}`];
const besideNode = resolve(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(besideNode, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${besideNode}`);
}
const [cmd, ...pre] = nodeGyp();
try {
  execFileSync(cmd, [...pre, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  console.log('banger: built the native DNS UDP path (native/dns-udp)');
} catch (err) {
  const why = String(err.stderr ?? err.message ?? err)
    .split('\n')
    .filter((l) => /error|ERR!/i.test(l))
    .slice(0, 4)
    .join('\n');
  console.warn(`banger: native DNS UDP path not built; DNS uses node:dgram instead.\n${why}`);
}

// The virtiofsd shim (shared folders on QEMU: native/virtiofsd-shim/setgroups.c).
try {
  execFileSync(process.execPath, [join(root, 'native', 'virtiofsd-shim', 'build.mjs')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  console.log('banger: built the virtiofsd shim (native/virtiofsd-shim)');
} catch (err) {
  console.warn(
    `banger: virtiofsd shim not built (no C compiler?): VMs with shared folders will not start.\n${String(
      err.stderr ?? err.message ?? err,
    )
      .split('\n')
      .slice(0, 4)
      .join('\n')}`,
  );
}
