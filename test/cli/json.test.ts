// The CLI as a user runs it: real processes, a real SQLite file, stable --json shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { tmpState, type TmpState } from '../helpers/tmp.js';

let t: TmpState;
test.before(() => {
  t = tmpState();
});
test.after(async () => {
  await cli(['engine', 'stop'], t.env);
  t.cleanup();
});

const VM_KEYS = [
  'backend',
  'bootArgs',
  'createdAt',
  'diskBytes',
  'exitCode',
  'exitSignal',
  'id',
  'image',
  'ip',
  'kernel',
  'lastError',
  'mac',
  'memoryMib',
  'mounts',
  'name',
  'pid',
  'pidStartTime',
  'ports',
  'run',
  'socketPath',
  'sshKeys',
  'startedAt',
  'state',
  'stopTimeoutMs',
  'stoppedAt',
  'suspended',
  'tap',
  'updatedAt',
  'userData',
  'vcpus',
];

test('vm create --json returns the created record', async () => {
  const r = await cli(['vm', 'create', 'web', '--vcpus', '2', '--memory', '512', '--disk', '2G', '--json'], t.env);
  assert.is(r.code, 0, r.stderr);
  const vm = JSON.parse(r.stdout);
  assert.equal(Object.keys(vm).sort(), VM_KEYS);
  assert.is(vm.name, 'web');
  assert.is(vm.vcpus, 2);
  assert.is(vm.memoryMib, 512);
  assert.is(vm.diskBytes, 2 * 1024 ** 3);
  assert.is(vm.state, 'created');
});

test('vm ls --json is an array of the same records; vm show --json one of them', async () => {
  const ls = await cli(['vm', 'ls', '--json'], t.env);
  assert.is(ls.code, 0, ls.stderr);
  const vms = JSON.parse(ls.stdout);
  assert.ok(Array.isArray(vms));
  assert.equal(
    vms.map((v: { name: string }) => v.name),
    ['web'],
  );
  assert.equal(Object.keys(vms[0]).sort(), VM_KEYS);
  const show = await cli(['vm', 'show', 'WEB', '--json'], t.env);
  assert.equal(JSON.parse(show.stdout), vms[0]);
});

test('kernel add/ls/rm and image ls --json', async () => {
  const k = join(t.root, 'vmlinux');
  writeFileSync(k, '\x7fELF fake');
  const add = await cli(['kernel', 'add', 'k1', k, '--json'], t.env);
  assert.is(add.code, 0, add.stderr);
  assert.equal(Object.keys(JSON.parse(add.stdout)).sort(), [
    'createdAt',
    'initrdPath',
    'name',
    'path',
    'source',
    'version',
  ]);
  const ls = JSON.parse((await cli(['kernel', 'ls', '--json'], t.env)).stdout);
  assert.is(ls.length, 1);
  assert.is(ls[0].name, 'k1');
  assert.is((await cli(['kernel', 'rm', 'k1'], t.env)).code, 0);
  assert.equal(JSON.parse((await cli(['kernel', 'ls', '--json'], t.env)).stdout), []);
  assert.equal(JSON.parse((await cli(['image', 'ls', '--json'], t.env)).stdout), []);
});

test('a user error exits 1 with one line on stderr, a stable code, and changes nothing', async () => {
  const r = await cli(['vm', 'create', 'Bad_Name'], t.env);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /\[E_INVALID_NAME\]$/m);
  const u = await cli(['vm', 'frobnicate'], t.env);
  assert.is(u.code, 1);
  assert.match(u.stderr, /E_USAGE/);
  const flag = await cli(['vm', 'ls', '--nope'], t.env);
  assert.is(flag.code, 1);
  assert.match(flag.stderr, /unknown option --nope/);
  assert.is(JSON.parse((await cli(['vm', 'ls', '--json'], t.env)).stdout).length, 1);
});

test('vm rm deletes the record', async () => {
  assert.is((await cli(['vm', 'rm', 'web'], t.env)).code, 0);
  assert.equal(JSON.parse((await cli(['vm', 'ls', '--json'], t.env)).stdout), []);
  const again = await cli(['vm', 'rm', 'web'], t.env);
  assert.is(again.code, 1);
  assert.match(again.stderr, /E_NOT_FOUND/);
});

test('two concurrent creates of one name: exactly one wins', async () => {
  for (const name of ['race1', 'race2']) {
    const [a, b] = await Promise.all([
      cli(['vm', 'create', name, '--json'], t.env),
      cli(['vm', 'create', name, '--json'], t.env),
    ]);
    const codes = [a.code, b.code].sort();
    assert.equal(codes, [0, 1], `${a.stderr} ${b.stderr}`);
    assert.match((a.code ? a : b).stderr, /E_NAME_TAKEN/);
  }
  const names = JSON.parse((await cli(['vm', 'ls', '--json'], t.env)).stdout).map((v: { name: string }) => v.name);
  assert.equal(names, ['race1', 'race2']);
});

test('--help names every group and shows first steps', async () => {
  const r = await cli(['--help'], t.env);
  assert.is(r.code, 0);
  for (const verb of ['vm create', 'vm ls', 'vm ssh', '  image ', '  kernel ', '  dns ', '  engine ', '--detach']) {
    assert.ok(r.stdout.includes(verb), verb);
  }
});

test.run();
