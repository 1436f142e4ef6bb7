// test-run: group host-users (adds two host users: useradd takes host-wide locks)
// The folder server as a real unprivileged user (useradd), without a guest: the argv the QEMU
// driver runs (unshare, the launcher, QEMU's virtiofsd with the setgroups shim) comes up as that
// user and listens on its socket; a second user cannot connect to it (the VM dir is owner-only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../../app/base/process.js';
import { shareFiles, shimPath, virtiofsdArgv, VIRTIOFSD } from '../../../app/engine/qemu/virtiofs.js';
import { firstReason, missingReason, runIf, isRoot } from '../../helpers/skip.js';
import { reachableRoot } from '../../helpers/reachable.js';
import { collect } from '../../helpers/collect.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SBIN = `${process.env.PATH}:/usr/sbin:/sbin`;
const skip = firstReason(
  isRoot ? null : 'needs root (useradd, runuser)',
  missingReason(['useradd', 'userdel', 'runuser', 'unshare'].filter((b) => !which(b, SBIN))),
  existsSync(VIRTIOFSD) ? null : `${VIRTIOFSD} missing (qemu-system-common)`,
  existsSync(shimPath()) ? null : 'the virtiofsd shim is not built (npm run build:native)',
);
const it = runIf(test, skip);

function uidOf(pid: number): number | null {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : null;
}

it('virtiofsd as a created user: listens as them, another user cannot connect', async () => {
  const tag = process.pid % 100000;
  const [owner, other] = [`bgfs${tag}`, `bgfx${tag}`];
  const base = mkdtempSync('/tmp/banger-vfs-user-');
  chmodSync(base, 0o755);
  for (const u of [owner, other]) execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', u]);
  let pid = 0;
  try {
    const uid = Number(execFileSync('id', ['-u', owner], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', owner], { encoding: 'utf8' }).trim());
    const vmDir = join(base, 'vm');
    const folder = join(base, 'folder');
    for (const d of [vmDir, folder]) {
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, uid, gid);
    }
    const f = shareFiles(vmDir, 'm0');
    execFileSync('runuser', ['-u', owner, '--', 'mkdir', '-p', f.root]);
    // The same argv, from a copy of the checkout the user can reach.
    const argv = virtiofsdArgv({ hostDir: folder, guestDir: '/f', readOnly: true, tag: 'm0' }, f).map((a) =>
      a.startsWith(ROOT + '/') ? join(reachableRoot(), a.slice(ROOT.length + 1)) : a,
    );
    const child = spawn('runuser', ['-u', owner, '--', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const deadline = Date.now() + 10_000;
    while (!existsSync(f.socket)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `virtiofsd did not listen: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    pid = child.pid!;
    assert.is(statSync(f.socket).uid, uid, 'the socket is the user’s');
    const servers = execFileSync('pgrep', ['-f', '--', `--socket-path=${f.socket}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    assert.ok(servers.length >= 1);
    for (const p of servers) assert.is(uidOf(p), uid, `virtiofsd ${p} runs as the user`);
    const probe = `require('net').connect(${JSON.stringify(f.socket)}).on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(3)})`;
    const r = await collect(['runuser', '-u', other, '--', process.execPath, '-e', probe], { timeoutMs: 10_000 });
    assert.is(r.stdout.trim(), 'EACCES', `another user is refused: ${r.stdout}${r.stderr}`);
  } finally {
    if (pid) execFileSync('pkill', ['-KILL', '-u', owner], { stdio: 'ignore' });
    for (const u of [owner, other]) execFileSync('userdel', [u], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
