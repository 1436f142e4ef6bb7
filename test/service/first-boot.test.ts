// vm create --user-data/--ssh-key through the real CLI and a detached engine on the Firecracker
// simulator: the record keeps them, the CLI warns about ignored cloud-config keys, vm show
// counts them, a start attaches the seed (read-only, after the root disk) whose files are the
// record's; bad input (missing file, over 1 MiB, bad YAML, a private key, over the engine's
// own checks) is refused with its code and nothing created.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { vmPaths } from '../../app/base/paths.js';
import { RawConn } from '../control/helpers.js';
import { json, svcState, until, type Svc } from './helpers.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk3c2VlZHRlc3RrZXlzZWVkdGVzdGtleXNlZWR0ZXN0 me@host';
interface Vm {
  id: string;
  name: string;
  state: string;
  userData: string | null;
  sshKeys: string[];
}

let s: Svc;
let files: string;
test.before(() => {
  s = svcState();
  files = join(s.root, 'in');
  mkdirSync(files);
  writeFileSync(join(files, 'ud.yaml'), '#cloud-config\nruncmd: [echo hi]\npackages: [nginx]\n');
  writeFileSync(join(files, 'k.pub'), `${KEY}\n`);
  writeFileSync(join(files, 'big'), '#!/bin/sh\n' + '#'.repeat(1024 * 1024));
  writeFileSync(join(files, 'bad.yaml'), '#cloud-config\nruncmd: [oops\n');
  writeFileSync(join(files, 'id'), '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
});
test.after(async () => {
  await s.cleanup();
});

const cat = (img: string, p: string) =>
  execFileSync('debugfs', ['-R', `cat ${p}`, img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

test('create keeps them, warns about ignored keys; start attaches the seed with the record’s files', async () => {
  const r = await s.banger([
    'vm',
    'create',
    'web',
    '--user-data',
    join(files, 'ud.yaml'),
    '--ssh-key',
    join(files, 'k.pub'),
    '--start',
    '--json',
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: user-data: banger's first-boot runner ignores packages/);
  const vm = json<Vm>(r);
  assert.is(vm.state, 'running');
  assert.is(vm.userData, readFileSync(join(files, 'ud.yaml'), 'utf8'));
  assert.equal(vm.sshKeys, [KEY]);
  const show = await s.banger(['vm', 'show', 'web']);
  assert.match(show.stdout, /user-data\s+cloud-config, 50B\n/, show.stdout);
  assert.match(show.stdout, /ssh keys\s+1\n/);
  const p = vmPaths(s.paths, vm.id);
  await until(() => /\[vdb\]/.test(readFileSync(p.consoleLog, 'utf8')), 10_000, 'the guest to list its disks');
  assert.match(readFileSync(p.consoleLog, 'utf8'), /virtio1: \[vdb\] read-only disk/, 'the seed, read-only, second');
  assert.is(cat(p.seed, '/banger/keys'), `${KEY}\n`);
  // Parsed, not matched: an all-digit id is quoted so cloud-init reads it as a string.
  assert.is(parse(cat(p.seed, '/meta-data'))['instance-id'], vm.id);
  assert.match(cat(p.seed, '/banger/firstboot/runcmd.sh'), /echo hi/);
  const plain = await s.banger(['vm', 'show', 'web', '--json']);
  assert.is(json<Vm>(plain).sshKeys.length, 1);
});

test('bad input: each refused with its code, exit 1, nothing created', async () => {
  for (const [args, code, re] of [
    [['--user-data', join(files, 'nope.yaml')], 'E_NOT_FOUND', /cannot read --user-data .*nope\.yaml: no such file/],
    [['--user-data', join(files, 'big')], 'E_USER_DATA_TOO_LARGE', /1048586 bytes; at most 1048576/],
    [['--user-data', join(files, 'bad.yaml')], 'E_INVALID_ARGUMENT', /not valid YAML/],
    [['--user-data', files], 'E_INVALID_ARGUMENT', /not a regular file/],
    [['--ssh-key', join(files, 'id')], 'E_INVALID_ARGUMENT', /not an OpenSSH public key line/],
    [['--ssh-key', join(files, 'k.pub'), '--ssh-key', join(files, 'gone.pub')], 'E_NOT_FOUND', /gone\.pub/],
  ] as const) {
    const r = await s.banger(['vm', 'create', 'bad', ...args]);
    assert.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`[${code}]`), `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const names = json<Vm[]>(await s.banger(['vm', 'ls', '--json'])).map((v) => v.name);
  assert.equal(names, ['web'], 'nothing half-made');
});

test('the engine checks for itself (a client that skips the CLI): over 1 MiB, bad keys; nothing created', async () => {
  const c = await RawConn.open(s.paths.controlSocket);
  try {
    const big = await c.request('createVm', [{ name: 'raw', userData: '#!/bin/sh\n' + 'x'.repeat(1024 * 1024) }], 1);
    assert.is(big.error?.code, 'E_USER_DATA_TOO_LARGE', JSON.stringify(big.error));
    const keys = await c.request('createVm', [{ name: 'raw', sshKeys: ['not a key'] }], 2);
    assert.is(keys.error?.code, 'E_INVALID_ARGUMENT', JSON.stringify(keys.error));
    const shape = await c.request('createVm', [{ name: 'raw', userData: 42 }], 3);
    assert.is(shape.ok, false);
  } finally {
    c.close();
  }
  assert.equal(
    json<Vm[]>(await s.banger(['vm', 'ls', '--json'])).map((v) => v.name),
    ['web'],
  );
});

test.run();
