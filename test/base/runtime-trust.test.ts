// Runtime dir trust: the chain of directories to the control socket, checked with real files
// owned by a real other user (nobody), and a hijack attempt end to end: another user creates
// the runtime root first and plants an engine socket; banger must refuse it and never connect.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { assertTrustedDirs, assertTrustedSocket, chainFrom } from '../../app/base/runtime-trust.js';
import { ensureBaseDirs, resolvePaths } from '../../app/base/paths.js';
import { BangerError } from '../../app/base/errors.js';
import { lockHolder } from '../../app/control/lock.js';
import { cli } from '../helpers/cli.js';
import { isRoot, runIf } from '../helpers/skip.js';

const asRoot = runIf(test, isRoot ? null : 'needs root (chown to another user, runuser)');
const NOBODY = 65534;

function code(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as BangerError).code ?? String(err);
  }
}

test('chainFrom: root, then each directory down to dir', () => {
  assert.equal(chainFrom('/tmp/banger-1', '/tmp/banger-1/ab12'), ['/tmp/banger-1', '/tmp/banger-1/ab12']);
  assert.equal(chainFrom('/r', '/r'), ['/r']);
  assert.equal(chainFrom('/r', '/elsewhere/x'), ['/elsewhere/x']);
});

asRoot('every directory from the root down: ours, a directory, not group/other-writable, no symlink', () => {
  const t = mkdtempSync('/tmp/bgr-trust-');
  try {
    const root = join(t, 'banger');
    const dir = join(root, 'tag');
    assert.is(
      code(() => assertTrustedDirs(root, dir, { allowMissing: true })),
      null,
      'nothing there yet',
    );
    assert.is(
      code(() => assertTrustedDirs(root, dir)),
      'E_UNTRUSTED_PATH',
      'must exist when not allowed missing',
    );
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    assert.is(
      code(() => assertTrustedDirs(root, dir)),
      null,
    );
    chmodSync(root, 0o770);
    assert.is(
      code(() => assertTrustedDirs(root, dir)),
      'E_UNTRUSTED_PATH',
      'group-writable root',
    );
    chmodSync(root, 0o755);
    assert.is(
      code(() => assertTrustedDirs(root, dir)),
      null,
      'readable is fine',
    );
    chownSync(root, NOBODY, NOBODY);
    assert.is(
      code(() => assertTrustedDirs(root, dir)),
      'E_UNTRUSTED_PATH',
      "another user's root",
    );
    chownSync(root, 0, 0);
    rmSync(dir, { recursive: true });
    mkdirSync(join(t, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(t, 'elsewhere'), dir);
    assert.is(
      code(() => assertTrustedDirs(root, dir)),
      'E_UNTRUSTED_PATH',
      'a symlink, even to our own dir',
    );
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

asRoot('a socket owned by someone else is refused before connecting, even in our own dir', async () => {
  const t = mkdtempSync('/tmp/bgr-trust-');
  const sock = join(t, 'engine.sock');
  let hits = 0;
  const srv = createServer((c) => {
    hits++;
    c.destroy();
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  try {
    assert.is(
      code(() => assertTrustedSocket(sock)),
      null,
      'ours',
    );
    lchownSync(sock, NOBODY, NOBODY);
    assert.is(
      code(() => assertTrustedSocket(sock)),
      'E_UNTRUSTED_PATH',
    );
    const { ping } = await import('../../app/control/client.js');
    await ping(sock).then(
      () => assert.unreachable('ping must throw, not report "no engine"'),
      (err) => assert.is((err as BangerError).code, 'E_UNTRUSTED_PATH'),
    );
    assert.is(hits, 0, 'never connected');
  } finally {
    srv.close();
    rmSync(t, { recursive: true, force: true });
  }
});

/** The attacker: a process of user nobody that creates the runtime dirs and listens on engine.sock. */
function plantEngine(runtimeRoot: string, runtimeDir: string, hitsFile: string) {
  const script = `
    const fs = require('fs'), net = require('net');
    fs.mkdirSync(${JSON.stringify(runtimeDir)}, { recursive: true, mode: 0o777 });
    for (const d of [${JSON.stringify(runtimeRoot)}, ${JSON.stringify(runtimeDir)}]) fs.chmodSync(d, 0o777);
    const sock = ${JSON.stringify(join(runtimeDir, 'engine.sock'))};
    net.createServer((c) => { fs.appendFileSync(${JSON.stringify(hitsFile)}, 'hit\\n'); c.on('data', () => {}); })
      .listen(sock, () => { fs.chmodSync(sock, 0o777); console.log('ready'); });`;
  // Its own process group: runuser forks, so the kill must reach the node below it too.
  const child = spawn('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`attacker exited ${c}`)));
  });
  return { kill, ready };
}

asRoot(
  'hijacked runtime root (another user made it first, planted engine.sock): every front end refuses, nothing connects',
  async () => {
    const t = mkdtempSync('/tmp/bgr-hijack-');
    chmodSync(t, 0o1777); // a shared /tmp of its own: anyone may create the runtime root first
    const env: Record<string, string> = {
      BANGER_STATE_DIR: join(t, 'victim', 'state'),
      BANGER_CONFIG_DIR: join(t, 'victim', 'config'),
      BANGER_CACHE_DIR: join(t, 'victim', 'cache'),
      BANGER_RUNTIME_DIR: '',
      XDG_RUNTIME_DIR: t,
      BANGER_NETWORK: 'none',
      BANGER_DNS_ADDR: '127.0.0.1:0',
    };
    const paths = resolvePaths(env);
    const root = join(t, 'banger'); // $XDG_RUNTIME_DIR/banger
    const hitsFile = join(t, 'hits');
    execFileSync('touch', [hitsFile]);
    chownSync(hitsFile, NOBODY, NOBODY);
    const attacker = plantEngine(root, paths.runtimeDir, hitsFile);
    try {
      await attacker.ready;
      for (const args of [['vm', 'ls'], ['--detach'], ['engine', 'stop'], ['engine', 'serve']]) {
        const r = await cli(args, env, { timeoutMs: 30_000 });
        assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, 'E_UNTRUSTED_PATH', args.join(' '));
        assert.match(r.stderr, root, args.join(' '));
      }
      assert.is(readFileSync(hitsFile, 'utf8'), '', 'the planted socket was never connected to');
      assert.is(lockHolder(paths.engineLock), null, 'no engine was started');
      assert.is(
        code(() => ensureBaseDirs(paths)),
        'E_UNTRUSTED_PATH',
        'the engine will not make its dirs there',
      );

      // What keeps working: once the planted root is gone, banger makes its own and runs.
      attacker.kill();
      rmSync(root, { recursive: true, force: true });
      const ok = await cli(['vm', 'ls', '--json'], env, { timeoutMs: 60_000 });
      assert.is(ok.code, 0, ok.stderr);
      assert.equal(JSON.parse(ok.stdout), []);
      assert.is(
        code(() => assertTrustedDirs(root, paths.runtimeDir)),
        null,
      );
      assert.is((await cli(['engine', 'stop'], env)).code, 0);
    } finally {
      attacker.kill();
      const holder = lockHolder(paths.engineLock);
      if (holder) process.kill(holder, 'SIGKILL');
      rmSync(t, { recursive: true, force: true });
    }
    assert.not.ok(existsSync(t));
  },
);

test.run();
