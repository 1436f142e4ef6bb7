// The --run seed section: what the host writes (runSpecOf, the escapes) and what the guest's
// boot hook (assets/guest/seed.d/40-run.sh) does with it, run here for real under busybox sh:
// hostile config values reach the program as plain arguments and variables (nothing they hold
// is run by a shell), output lands on the "console" prefixed, the service is restarted with a
// growing delay when killed, runs as the image's user, and `stop` ends it and its supervisor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeValue,
  encodeValue,
  runSection,
  runSeedFiles,
  runSpecOf,
  DEFAULT_PATH,
} from '../../../../app/engine/vm/seed/run.js';
import type { ImageConfig } from '../../../../app/contract/api.js';
import { BangerError } from '../../../../app/base/errors.js';
import { which } from '../../../../app/base/process.js';
import { collect } from '../../../helpers/collect.js';
import { vmRecord } from '../../../helpers/builders.js';
import { collectSeedFiles } from '../../../../app/engine/vm/seed/sections.js';
import { buildSeed } from '../../../../app/engine/vm/seed/build.js';
import { assetPath } from '../../../../app/engine/images/assets.js';
import { createRunner } from '../../../../app/base/process.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../../../helpers/skip.js';

const SCRIPT = join(import.meta.dirname, '../../../../assets/guest/seed.d/40-run.sh');
const HOSTILE = [
  '$(touch PWNED)',
  '`touch PWNED`',
  'it\'s "quoted"',
  'two\nlines',
  'back\\slash \\0101',
  '%s %b %%',
  '  spaced  ',
  '-e',
  'naïve ☃',
  '*',
  '',
];

const imageRecord = () => ({
  name: 'img',
  source: 'test',
  path: '/nonexistent',
  sizeBytes: 0,
  sha256: 'x',
  buildLog: null,
  createdAt: new Date(0).toISOString(),
});
const cfg = (c: Partial<ImageConfig>): ImageConfig => ({
  env: [],
  entrypoint: [],
  cmd: [],
  workingDir: null,
  user: null,
  exposedPorts: [],
  ...c,
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, BangerError);
    return (e as BangerError).code;
  }
  return 'none';
}

test('escapes: only safe characters stay as they are, and every value comes back whole', () => {
  for (const v of HOSTILE) {
    const line = encodeValue(v);
    assert.match(line, /^[A-Za-z0-9_./:=,+@\\-]*$/, `one line of safe characters: ${line}`);
    assert.is(decodeValue(line), v);
  }
  assert.is(encodeValue('PATH=/usr/bin'), 'PATH=/usr/bin');
  assert.is(encodeValue('a b'), 'a\\0040b');
});

test('runSpecOf: no config, or neither Entrypoint nor Cmd, is E_NO_RUN_COMMAND', () => {
  assert.is(
    code(() => runSpecOf({ name: 'bb', config: null })),
    'E_NO_RUN_COMMAND',
  );
  assert.is(
    code(() => runSpecOf({ name: 'bb', config: undefined })),
    'E_NO_RUN_COMMAND',
  );
  assert.is(
    code(() => runSpecOf({ name: 'x', config: cfg({}) })),
    'E_NO_RUN_COMMAND',
  );
  assert.is(
    code(() => runSpecOf({ name: 'x', config: cfg({ cmd: ['a\0b'] }) })),
    'E_NO_RUN_COMMAND',
  );
  assert.is(
    code(() => runSpecOf({ name: 'x', config: cfg({ cmd: ['a'], workingDir: 'rel' }) })),
    'E_NO_RUN_COMMAND',
  );
  try {
    runSpecOf({ name: 'bb', config: null });
  } catch (e) {
    assert.match((e as Error).message, /image "bb" has no OCI config to run/);
  }
});

test('runSpecOf: Entrypoint then Cmd, Docker defaults for PATH and HOME, WorkingDir / by default', () => {
  const s = runSpecOf({ name: 'x', config: cfg({ entrypoint: ['/e', '-v'], cmd: ['c'], env: ['A=1', 'junk'] }) });
  assert.equal(s.argv, ['/e', '-v', 'c']);
  assert.equal(s.env, ['A=1', DEFAULT_PATH, 'HOME=/root']);
  assert.is(s.workingDir, '/');
  assert.is(s.user, '');
  const u = runSpecOf({ name: 'x', config: cfg({ cmd: ['c'], env: ['PATH=/x'], user: 'app', workingDir: '/srv' }) });
  assert.equal(u.env, ['PATH=/x'], "a non-root user's HOME is not guessed; the image's PATH is kept");
  assert.is(u.workingDir, '/srv');
  const files = runSeedFiles(u);
  assert.equal(Object.keys(files).sort(), [
    'banger/run/argv',
    'banger/run/env',
    'banger/run/user',
    'banger/run/workdir',
  ]);
  assert.is(files['banger/run/user'], 'app\n');
});

test('the run section: nothing without --run; with it, banger/run/* on a real seed beside 40-run.sh', async () => {
  const image = { ...imageRecord(), config: cfg({ cmd: ['/bin/app', 'a b'] }) };
  assert.equal(collectSeedFiles({ vm: vmRecord({ run: false }), image }, [runSection]), {});
  const files = collectSeedFiles({ vm: vmRecord({ run: true }), image }, [runSection]);
  assert.is(files['banger/run/argv'], '/bin/app\na\\0040b\n');
  assert.throws(
    () => collectSeedFiles({ vm: vmRecord({ run: true }), image: { ...image, config: null } }, [runSection]),
    (e: BangerError) => e.code === 'E_NO_RUN_COMMAND',
  );
  const dir = mkdtempSync(join(tmpdir(), 'banger-run-seed-'));
  try {
    const dest = join(dir, 'seed.ext4');
    await buildSeed(createRunner(), files, dest, assetPath('guest/seed.d'));
    const cat = (p: string) => collect(['debugfs', '-R', `cat ${p}`, dest]).then((r) => r.stdout);
    assert.is(await cat('/banger/run/argv'), files['banger/run/argv']);
    assert.match(await cat('/banger/boot.d/40-run.sh'), /supervise\(\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the guest side, for real
const missing = missingReason(
  [
    ['busybox', 'busybox-static'],
    ['setpriv', 'util-linux'],
  ]
    .filter(([bin]) => !which(bin))
    .map(([bin, pkg]) => `${bin} (${pkg})`),
);
const guest = runIf(test, firstReason(missing, NEEDS_ROOT));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function setup(config: ImageConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'banger-run-'));
  const seed = join(dir, 'seed', 'banger');
  mkdirSync(join(seed, 'run'), { recursive: true });
  for (const [f, body] of Object.entries(runSeedFiles(runSpecOf({ name: 'img', config }))))
    writeFileSync(join(dir, 'seed', f), body);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    BANGER_RUN_DIR: join(dir, 'rundir'),
    BANGER_RUN_CONSOLE: join(dir, 'console'),
  };
  const file = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  const pid = (f: string) => Number(file(`rundir/${f}`).trim()) || 0;
  return { dir, seed, env, file, pid, console: () => file('console') };
}

guest('the service gets the hostile values as data, logs prefixed, restarts with backoff, and stops', async () => {
  // The program prints every argument and two variables between markers, then waits.
  const script =
    'for a; do printf "<%s>\\n" "$a"; done; printf "V=<%s> W=<%s> pwd=%s\\n" "$V" "$W" "$(pwd)"; exec sleep 60';
  const s = setup(
    cfg({
      entrypoint: ['/bin/sh', '-c', script, 'argv0'],
      cmd: HOSTILE.filter((v) => v !== ''),
      env: ['V=$(touch PWNED) `touch PWNED`', "W=it's\nhere", 'PATH=/usr/bin:/bin'],
      workingDir: '/tmp',
    }),
  );
  try {
    const r = await collect(['busybox', 'sh', SCRIPT, s.seed], { env: s.env, cwd: s.dir, timeoutMs: 10_000 });
    assert.is(r.code, 0, r.stderr);
    await until('the service output', () => /pwd=\/tmp/.test(s.console()), 20_000);
    const out = s.console();
    for (const v of HOSTILE.filter((x) => x !== '')) {
      const expected = `<${v}>`
        .split('\n')
        .map((l) => `[run] ${l}`)
        .join('\n');
      assert.ok(out.includes(expected), `argument ${JSON.stringify(v)} arrived whole:\n${out}`);
    }
    assert.ok(out.includes("[run] V=<$(touch PWNED) `touch PWNED`> W=<it's\n[run] here> pwd=/tmp"), out);
    assert.not.ok(existsSync(join(s.dir, 'PWNED')) || existsSync('/tmp/PWNED'), 'nothing was run by a shell');

    const sup = s.pid('supervisor.pid');
    const first = s.pid('service.pid');
    assert.ok(alive(sup) && alive(first));
    process.kill(first, 'SIGKILL');
    await until('a restart', () => s.pid('service.pid') !== first && s.pid('service.pid') > 0, 15_000);
    assert.match(s.console(), /\[run\] exited with status 137 after \d+s; restarting in 1s/);
    const second = s.pid('service.pid');
    const t0 = Date.now();
    process.kill(second, 'SIGKILL');
    await until('a second restart', () => s.pid('service.pid') !== second && s.pid('service.pid') > 0, 20_000);
    assert.ok(Date.now() - t0 >= 1800, `the second restart waited ~2s (backoff): ${Date.now() - t0} ms`);
    assert.match(s.console(), /restarting in 2s/);

    const third = s.pid('service.pid');
    const st = await collect(['busybox', 'sh', SCRIPT, 'stop'], { env: s.env, timeoutMs: 20_000 });
    assert.is(st.code, 0);
    assert.not.ok(alive(sup), 'the supervisor is gone');
    assert.not.ok(alive(third), 'the service is gone');
    assert.match(s.console(), /\[run\] stopped\n$/);
  } finally {
    for (const f of ['service.pid', 'supervisor.pid']) {
      const p = s.pid(f);
      if (p && alive(p)) process.kill(p, 'SIGKILL');
    }
    rmSync(s.dir, { recursive: true, force: true });
  }
});

for (const how of ['setpriv', 'ssd'])
  guest(`the service runs as the image's User (switched with ${how}), in its WorkingDir`, async () => {
    const s = setup(
      cfg({ cmd: ['/bin/sh', '-c', 'echo "as $(id -u):$(id -g) in $(pwd)"; exec sleep 60'], user: 'nobody' }),
    );
    try {
      const env = { ...s.env, BANGER_RUN_SWITCH: how };
      ok(await collect(['busybox', 'sh', SCRIPT, s.seed], { env, cwd: s.dir, timeoutMs: 10_000 }));
      await until('the service output', () => /as \d+/.test(s.console()), 20_000);
      assert.match(s.console(), /\[run\] as 65534:65534 in \/\n/);
      ok(await collect(['busybox', 'sh', SCRIPT, 'stop'], { env, timeoutMs: 20_000 }));
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

guest('an unknown user is said on the console and nothing runs', async () => {
  const s = setup(cfg({ cmd: ['/bin/true'], user: 'no-such-user' }));
  try {
    ok(await collect(['busybox', 'sh', SCRIPT, s.seed], { env: s.env, cwd: s.dir, timeoutMs: 10_000 }));
    await until('the message', () => s.console() !== '', 15_000);
    assert.is(s.console(), '[run] unknown user "no-such-user" (not in /etc/passwd)\n');
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('a seed without a run section starts nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-run-'));
  try {
    const env = { PATH: process.env.PATH ?? '', BANGER_RUN_DIR: join(dir, 'rundir') };
    ok(await collect(['sh', SCRIPT, dir], { env, timeoutMs: 5_000 }));
    assert.not.ok(existsSync(join(dir, 'rundir')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function ok(r: { code: number; stderr: string }): void {
  assert.is(r.code, 0, r.stderr);
}

test.run();
