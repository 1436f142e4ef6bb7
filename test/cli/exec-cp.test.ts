// vm exec / vm cp without a guest: argument forms and their errors (nothing contacted), the
// remote words' quoting, the per-VM control socket name, and completion of the new verbs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCpArgs } from '../../app/cli/cp.js';
import { controlPathFor, remoteLine, shellQuote, takeSession } from '../../app/cli/exec.js';
import { complete } from '../../app/cli/complete.js';
import { BangerError } from '../../app/base/errors.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as BangerError).code;
  }
  return 'none';
}

test('cp arguments: NAME:PATH on exactly one side, - for a stream, a local source that exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-cp-'));
  assert.equal(parseCpArgs(dir, 'web:/srv'), { vm: 'web', direction: 'in', remote: '/srv', local: dir });
  assert.equal(parseCpArgs('web:/etc/x', '.'), { vm: 'web', direction: 'out', remote: '/etc/x', local: '.' });
  assert.equal(parseCpArgs('-', 'web:/srv'), { vm: 'web', direction: 'in', remote: '/srv', local: '-' });
  assert.equal(parseCpArgs('web:/srv', '-'), { vm: 'web', direction: 'out', remote: '/srv', local: '-' });
  assert.is(
    code(() => parseCpArgs('a:/x', 'b:/y')),
    'E_INVALID_ARGUMENT',
    'both remote',
  );
  assert.is(
    code(() => parseCpArgs(dir, join(dir, 'y'))),
    'E_INVALID_ARGUMENT',
    'neither remote',
  );
  assert.is(
    code(() => parseCpArgs(join(dir, 'nope'), 'web:/x')),
    'E_NOT_FOUND',
    'a missing local source',
  );
  assert.is(
    code(() => parseCpArgs('./web:x', '/tmp')),
    'E_INVALID_ARGUMENT',
    './NAME:PATH is a local path',
  );
});

test('remote words survive the guest shell whole', () => {
  const words = ['printf', '%s|', 'a b', "it's", '$HOME', '`x`', '', 'plain/path'];
  const out = spawnSync('sh', ['-c', shellQuote(words)], { encoding: 'utf8' }).stdout;
  assert.is(out, "a b|it's|$HOME|`x`||plain/path|");
});

test('the remote line keeps the exit code and turns a death by signal N into 128+N', () => {
  const sh = (words: string[]) => spawnSync('sh', ['-c', remoteLine(words)]).status;
  assert.is(sh(['sh', '-c', 'exit 3']), 3);
  assert.is(sh(['true']), 0);
  assert.is(sh(['sh', '-c', 'kill -9 $$']), 137, 'SIGKILL: 128+9, not ssh 255');
  assert.is(sh(['sh', '-c', 'kill -TERM $$']), 143);
});

test('one session at a time on a master: a second banger goes alone; a dead holder is taken over', () => {
  const cp = join(mkdtempSync(join(tmpdir(), 'banger-sess-')), 'x.sock');
  assert.ok(takeSession(cp), 'the first takes the slot');
  assert.is(readFileSync(`${cp}.session`, 'utf8'), String(process.pid), 'with its pid');
  assert.not.ok(takeSession(cp), 'held by a live banger: go alone');
  const dead = spawnSync('true').pid!;
  writeFileSync(`${cp}.session`, String(dead));
  assert.ok(takeSession(cp), 'left by a dead banger: taken over');
  // Released when the holder exits.
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${join(import.meta.dirname, '../../app/cli/exec.ts')}').then((m) => m.takeSession('${cp}2'))`,
    ],
    { encoding: 'utf8' },
  );
  assert.is(child.status, 0, child.stderr);
  assert.not.ok(existsSync(`${cp}2.session`), 'gone with its holder');
});

test('one control socket per VM id and IP: a new address is a new master', () => {
  const a = controlPathFor('/run/u/banger', 'abc123', '10.0.0.2');
  assert.is(a, controlPathFor('/run/u/banger', 'abc123', '10.0.0.2'));
  assert.is.not(a, controlPathFor('/run/u/banger', 'abc123', '10.0.0.3'));
  assert.is.not(a, controlPathFor('/run/u/banger', 'abc124', '10.0.0.2'));
  assert.match(a, /^\/run\/u\/banger\/ssh\/[0-9a-f]{24}\.sock$/);
});

test('completion: exec and cp with their flags', async () => {
  const values = async (w: string[]) => (await complete(w, null)).candidates.map((c) => c.value);
  assert.ok((await values(['vm', ''])).includes('exec'));
  assert.ok((await values(['vm', ''])).includes('cp'));
  assert.equal(await values(['vm', 'exec', 'web', '-']), ['--interactive', '--tty', '--help']);
  assert.equal(await values(['vm', 'cp', '-']), ['--recursive', '--json', '--help']);
});

test.run();
