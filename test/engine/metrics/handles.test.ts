import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelFile } from '../../../app/engine/metrics/handles.js';
import { createRunner } from '../../../app/base/process.js';

const runner = createRunner();
const tmp = mkdtempSync(join(tmpdir(), 'banger-handles-'));

test('a kept-open /proc file re-reads fresh contents at offset 0', async () => {
  const f = new KernelFile(`/proc/${process.pid}/stat`);
  const a = f.read()!;
  assert.ok(f.isOpen);
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i; // burn some CPU so utime moves
  assert.ok(x > 0);
  await new Promise((r) => setTimeout(r, 50));
  const b = f.read()!;
  assert.ok(a.startsWith(`${process.pid} (`) && b.startsWith(`${process.pid} (`));
  assert.is.not(a, b, 'contents regenerated, not cached');
  f.close();
  assert.not.ok(f.isOpen);
});

test('the fd stays bound to its process: after it exits, reads are null (no pid reuse confusion)', async () => {
  const p = runner.spawn(['sleep', '30'], { stdio: 'ignore', detached: false });
  await new Promise((r) => setTimeout(r, 50));
  const f = new KernelFile(`/proc/${p.pid}/stat`);
  assert.ok(f.read()?.includes('(sleep)'));
  process.kill(p.pid, 'SIGKILL');
  await p.exited;
  assert.is(f.read(true), null);
  assert.not.ok(f.isOpen);
});

test('a missing file is null, and is opened once it appears', () => {
  const path = join(tmp, 'counter');
  const f = new KernelFile(path);
  assert.is(f.read(), null);
  writeFileSync(path, '42\n');
  assert.is(f.read(), '42\n');
  f.close();
});

test('errors other than "gone" are thrown', () => {
  const f = new KernelFile(tmp); // a directory: EISDIR on read
  try {
    f.read();
    assert.unreachable();
  } catch (e) {
    assert.is((e as NodeJS.ErrnoException).code, 'EISDIR');
  }
  f.close();
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
