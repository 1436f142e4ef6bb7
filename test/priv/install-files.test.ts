// The entry point's files: precompiled by the build (scripts/build-priv-root.mjs) from the same
// sources the stamp hashes, installable with no compiler at run time, and runnable by a bare
// node that resolves no package.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { collect } from '../helpers/collect.js';
import { entryFiles } from '../../app/priv/install.js';
import { ROOT_FILES, sourceStamp } from '../../app/base/priv-sources.js';
// @ts-expect-error: a plain .mjs build script, no types
import { buildPrivRoot, ROOT_FILES as BUILD_FILES } from '../../scripts/build-priv-root.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'banger-entry-files-'));
const built = join(tmp, 'built');
buildPrivRoot(ROOT, built);
const NOWHERE = join(tmp, 'not-built');
const NO_COMPILER = join(ROOT, 'test', 'fixtures', 'entry-files-no-compiler.ts');

test('the build compiles the same files, with the same stamp, as the installer', () => {
  assert.equal(BUILD_FILES, ROOT_FILES);
  assert.is(readFileSync(join(built, 'source.sha256'), 'utf8').trim(), sourceStamp());
  // Read from the build, and compiled on the spot (no build): the same bytes.
  const fromBuild = entryFiles('/usr/bin/node', built);
  const compiled = entryFiles('/usr/bin/node', NOWHERE);
  assert.equal([...fromBuild], [...compiled]);
  for (const f of ROOT_FILES) assert.is(fromBuild.get(`lib/${f}.js`), readFileSync(join(built, `${f}.js`), 'utf8'));
});

test('an install needs no compiler when the build is current', async () => {
  const r = await collect([process.execPath, '--import', 'tsx', NO_COMPILER, built], { cwd: ROOT });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /lib\/main\.js .*banger-priv/);
});

test('an unbuilt checkout without a compiler is told to build, not given a stack trace', async () => {
  const r = await collect([process.execPath, '--import', 'tsx', NO_COMPILER, NOWHERE], { cwd: ROOT });
  assert.match(r.stdout, /^error E_NOT_FOUND: .* run npm run build/);
});

test('the installed files run under a bare node: no package, nothing from the checkout', async () => {
  const dir = join(tmp, 'install');
  for (const [rel, content] of entryFiles(process.execPath, built)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content, { mode: 0o755 });
  }
  const r = await collect([join(dir, 'banger-priv'), 'no-such-verb'], { cwd: tmp, env: { PATH: '/usr/bin:/bin' } });
  // The helper's own refusal: it loaded, parsed and answered.
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /E_PRIV_REFUSED/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
