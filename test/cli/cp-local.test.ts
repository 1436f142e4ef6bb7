// vm cp's whole copy logic, both ways, with this host standing in for the guest: the ssh in the
// ExecTarget is a script that runs the remote words with sh here, so the guest-side scripts, the
// tar streams, the temp dirs and renames are the real ones. Docker's forms: DIR/. for a
// directory's contents, a DST/ that must exist; modes kept; nothing left behind on a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy, isContents, parseCpArgs } from '../../app/cli/cp.js';
import { createRunner } from '../../app/base/process.js';
import type { ExecTarget } from '../../app/cli/exec.js';
import { BangerError } from '../../app/base/errors.js';
import { makeTree, treeOf } from '../e2e/exec-checks.js';

const root = mkdtempSync(join(tmpdir(), 'banger-cp-local-'));
const guest = join(root, 'guest');
const host = join(root, 'host');
mkdirSync(guest);
mkdirSync(host);
// The stand-in ssh: drops the options, runs the last word (the quoted remote command) with sh.
const ssh = join(root, 'ssh');
writeFileSync(ssh, '#!/bin/sh\nwhile [ $# -gt 1 ]; do shift; done\nexec sh -c "$1"\n');
chmodSync(ssh, 0o755);
const target: ExecTarget = {
  argv: [ssh, 'root@10.0.0.2'],
  controlPath: '',
  via: 'direct',
  masterAlive: async () => true,
};
const runner = createRunner();
const tree = join(host, 'tree');
makeTree(tree);

const cp = (src: string, dst: string, recursive = true) => copy(target, runner, parseCpArgs(src, dst), { recursive });
const g = (p: string) => `vm:${join(guest, p)}`;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as BangerError).code;
  }
  return 'none';
}

test("isContents: DIR/. and . name a directory's contents", () => {
  for (const p of ['.', './', 'a/.', '/srv/site/.']) assert.is(isContents(p.replace(/\/$/, '')), true, p);
  for (const p of ['a', 'a/', '.hidden', 'a/..', 'a/.x']) assert.is(isContents(p), false, p);
});

test('a tree in and out: modes and contents equal, no temp dir left', async () => {
  await cp(tree, g(''));
  assert.equal(treeOf(join(guest, 'tree')), treeOf(tree));
  mkdirSync(join(host, 'back'));
  await cp(`vm:${join(guest, 'tree')}`, join(host, 'back'));
  assert.equal(treeOf(join(host, 'back', 'tree')), treeOf(tree));
  assert.equal(readdirSync(join(host, 'back')), ['tree']);
  assert.not.ok(readdirSync(guest).some((n) => n.startsWith('.banger-cp')));
});

test('DIR/. in: the contents into an existing dir, or a new dir made of them', async () => {
  mkdirSync(join(guest, 'into'));
  writeFileSync(join(guest, 'into', 'kept'), 'kept\n');
  await cp(`${tree}/.`, g('into'));
  assert.equal(readdirSync(join(guest, 'into')).sort(), ['kept', 'plain', 'sub']);
  await cp(`${tree}/.`, g('fresh'));
  assert.equal(treeOf(join(guest, 'fresh')), treeOf(tree));
  assert.equal(
    readdirSync(guest).filter((n) => n.startsWith('.banger-cp')),
    [],
  );
});

test('NAME:DIR/. out: the contents into an existing dir, or a new dir made of them', async () => {
  mkdirSync(join(host, 'flat'));
  await cp(`vm:${join(guest, 'tree')}/.`, join(host, 'flat'));
  assert.equal(treeOf(join(host, 'flat')), treeOf(tree));
  await cp(`vm:${join(guest, 'tree')}/.`, join(host, 'fresh'));
  assert.equal(treeOf(join(host, 'fresh')), treeOf(tree));
  assert.is(await code(cp(`vm:${join(guest, 'tree', 'plain')}/.`, join(host, 'x'))), 'E_NOT_FOUND', 'a file/.');
});

test('DST/ must be an existing directory, either way; nothing is made', async () => {
  assert.is(await code(cp(join(tree, 'plain'), `${g('nodir')}/`)), 'E_NOT_FOUND');
  assert.not.ok(existsSync(join(guest, 'nodir')));
  assert.is(await code(cp(g('tree/plain'), `${join(host, 'nodir')}/`)), 'E_NOT_FOUND');
  assert.not.ok(existsSync(join(host, 'nodir')));
  await cp(join(tree, 'plain'), `${g('tree')}/`);
  assert.is(readFileSync(join(guest, 'tree', 'plain'), 'utf8'), 'plain\n', 'an existing DST/ takes the file');
});

test('a directory needs -r; a missing source or parent is E_NOT_FOUND', async () => {
  assert.is(await code(cp(tree, g('norec'), false)), 'E_INVALID_ARGUMENT');
  assert.is(await code(cp(g('tree'), join(host, 'norec'), false)), 'E_INVALID_ARGUMENT');
  assert.is(await code(cp(g('missing'), host)), 'E_NOT_FOUND');
  assert.is(await code(cp(join(tree, 'plain'), g('no/such/x'))), 'E_NOT_FOUND');
  assert.not.ok(existsSync(join(guest, 'norec')) || existsSync(join(host, 'norec')));
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
