// The remembered probes: a binary's answer is kept per file identity, failures never are.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '../../app/base/process.js';
import { cachedProbe } from '../../app/base/probe.js';

const runner = createRunner();

/** A "binary" that counts its runs in a file beside it and answers with the given exit code. */
function fakeBin(dir: string, exit = 0): { bin: string; runs: () => number } {
  const bin = join(dir, 'fake-vmm');
  const count = join(dir, 'runs');
  writeFileSync(count, '');
  writeFileSync(bin, `#!/bin/sh\necho x >> '${count}'\necho "Fake v1.0 $*"\nexit ${exit}\n`);
  chmodSync(bin, 0o755);
  return { bin, runs: () => readFileSync(count, 'utf8').split('\n').filter(Boolean).length };
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'banger-probe-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a clean answer is asked once and remembered, per argv',
  withDir(async (dir) => {
    const { bin, runs } = fakeBin(dir);
    const probe = cachedProbe(runner, join(dir, 'probes.json'));
    const first = await probe([bin, '--version']);
    assert.equal([first.exitCode, first.stdout], [0, 'Fake v1.0 --version\n']);
    assert.equal((await probe([bin, '--version'])).stdout, first.stdout);
    assert.is(runs(), 1);
    assert.is((await probe([bin, 'help'])).stdout, 'Fake v1.0 help\n');
    assert.is(runs(), 2);
  }),
);

test(
  'a touched or replaced binary is asked again',
  withDir(async (dir) => {
    const { bin, runs } = fakeBin(dir);
    const probe = cachedProbe(runner, join(dir, 'probes.json'));
    await probe([bin, '--version']);
    utimesSync(bin, new Date(), new Date(Date.now() + 5000));
    await probe([bin, '--version']);
    assert.is(runs(), 2);
    writeFileSync(bin, `#!/bin/sh\necho "Fake v2.0"\n`);
    assert.is((await probe([bin, '--version'])).stdout, 'Fake v2.0\n');
  }),
);

test(
  'a failing answer is never remembered, and a missing cache dir only means no memory',
  withDir(async (dir) => {
    const failing = fakeBin(dir, 3);
    const probe = cachedProbe(runner, join(dir, 'probes.json'));
    assert.is((await probe([failing.bin, '--version'])).exitCode, 3);
    assert.is((await probe([failing.bin, '--version'])).exitCode, 3);
    assert.is(failing.runs(), 2);
    const noDir = cachedProbe(runner, join(dir, 'absent', 'probes.json'));
    const ok = fakeBin(dir);
    await noDir([ok.bin, '--version']);
    await noDir([ok.bin, '--version']);
    assert.is(ok.runs(), 2);
    const missing = await probe([join(dir, 'no-such-binary'), '--version']);
    assert.ok(missing.exitCode !== 0);
  }),
);

test(
  'a corrupt cache file is ignored and replaced',
  withDir(async (dir) => {
    const { bin, runs } = fakeBin(dir);
    const file = join(dir, 'probes.json');
    writeFileSync(file, '{not json');
    const probe = cachedProbe(runner, file);
    await probe([bin, '--version']);
    await probe([bin, '--version']);
    assert.is(runs(), 1);
  }),
);

test.run();
