// What each route loads (esbuild's view of the import graph, as `npm run build` bundles it): a
// CLI verb and the entry's first step must not pull in the engine, the TUI libraries, SQLite
// or a process library; only import() may reach them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type Metafile } from 'esbuild';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../helpers/cli.js';

const HEAVY =
  /^(blessed|blessed-contrib|@xterm\/headless|better-sqlite3|execa|dns-packet)$|^app\/(engine\/wiring|engine\/engine|screens\/|dns\/responder)/;

async function graph(entry: string): Promise<Metafile> {
  const r = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external', // packages show as the names imported
    outdir: join(ROOT, 'node_modules', '.cache', 'banger-graph-test'),
    logLevel: 'silent',
  });
  return r.metafile;
}

/** Every module (our files and package names) reachable from entry; import() edges only if asked. */
function closure(meta: Metafile, entry: string, dynamic: boolean): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const i of meta.inputs[f]?.imports ?? [])
      if (dynamic || i.kind !== 'dynamic-import') todo.push(i.external ? i.path.replace(/^node:.*/, 'node:') : i.path);
  }
  seen.delete('node:');
  return seen;
}

test('a CLI verb (dist/verb.cjs) bundles none of the engine, TUI, SQLite or DNS wire code', async () => {
  const all = [...closure(await graph('app/entry/verb.ts'), 'app/entry/verb.ts', true)];
  assert.equal(
    all.filter((f) => HEAVY.test(f)),
    [],
  );
  assert.ok(all.includes('app/control/client.ts'), 'it does talk to the engine');
});

test("the entry's static graph is small: everything heavy is behind import()", async () => {
  const meta = await graph('app/main.ts');
  const all = closure(meta, 'app/main.ts', true);
  assert.ok(all.has('blessed') && all.has('better-sqlite3'), 'the TUI and the engine are reachable (import())');
  const eager = [...closure(meta, 'app/main.ts', false)];
  assert.equal(
    eager.filter((f) => HEAVY.test(f)),
    [],
  );
  const small = ['app/main.ts', 'app/base/errors.ts', 'app/base/paths.ts', 'app/base/runtime-trust.ts'];
  assert.equal(
    eager.filter((f) => !small.includes(f) && f !== 'app/base/sha256.ts'),
    [],
    `main.ts loads up front only: ${eager.join(', ')}`,
  );
});

test('a CLI verb of the built checkout loads neither node:crypto nor node:child_process', () => {
  // Each costs every verb ~2 ms of Node internals; they load on first use (base/lazy-builtin.ts,
  // and scripts/build.mjs makes commander's child_process lazy).
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      join(ROOT, 'test', 'fixtures', 'print-builtins.mjs'),
      join(ROOT, 'bin', 'banger'),
      'completion',
      'bash',
    ],
    // No BANGER_RUNTIME_DIR: the runtime dir is named by a hash of the state dir, as for users.
    {
      encoding: 'utf8',
      env: { ...process.env, BANGER_USE_TSX: '', BANGER_RUNTIME_DIR: '', XDG_RUNTIME_DIR: tmpdir() },
    },
  );
  assert.is(r.status, 0, r.stderr);
  const loaded = r.stderr.split('\n');
  assert.ok(loaded.includes('net') || loaded.includes('fs'), `the hook reported: ${r.stderr.slice(0, 200)}`);
  assert.equal(
    loaded.filter((m) => m === 'crypto' || m === 'child_process'),
    [],
  );
});

test('blessed-contrib and xterm are loaded by import() only, from the screens that need them', async () => {
  const meta = await graph('app/entry/tui.ts');
  const eager = [...closure(meta, 'app/entry/tui.ts', false)];
  assert.not.ok(
    eager.some((f) => /blessed-contrib|@xterm/.test(f)),
    eager.filter((f) => /blessed-contrib|@xterm/.test(f)).join(),
  );
  assert.not.ok(eager.includes('app/engine/wiring.ts'), 'an attached TUI does not load the engine');
});

test("a CLI verb compiles dist/verb.cjs from the build's code cache, and runs without it", () => {
  const run = (mode: string) =>
    spawnSync(process.execPath, [join(ROOT, 'bin', 'banger'), 'completion', 'bash'], {
      encoding: 'utf8',
      env: { ...process.env, BANGER_USE_TSX: '', BANGER_CODE_CACHE: mode },
    });
  const used = run('report');
  assert.is(used.status, 0, used.stderr);
  assert.is(used.stderr, 'code cache: used\n', 'V8 accepts the cache npm run build wrote');
  const off = run('off');
  assert.is(off.status, 0, off.stderr);
  assert.is(off.stdout, used.stdout);
});

test.run();
