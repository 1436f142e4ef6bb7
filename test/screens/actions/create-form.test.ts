// The create form's strings -> engine input, without a screen: mounts and published ports are
// checked by the contract's parsers and sent raw, the user-data and ssh-key files are read here
// (a private key is refused), and each failure names the field the cursor goes back to.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { homedir } from 'node:os';
import { createFields, expandPath, parseCreateForm } from '../../../app/screens/actions/create-form.js';

const base = { name: 'web', image: 'busybox', kernel: '(default)', vcpus: '1', memory: '256', disk: '' };
const files: Record<string, string> = {
  '/f/user-data': '#!/bin/sh\ntouch /ok\n',
  '/f/a.pub': 'ssh-ed25519 AAAA a@h\n',
  '/f/b.pub': 'ssh-rsa BBBB b@h',
  '/f/id': '-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n',
  '/f/empty.pub': '\n',
};
const read = (p: string) => {
  if (p in files) return files[p]!;
  throw Object.assign(new Error(`ENOENT: ${p}`), { code: p.endsWith('/dir') ? 'EISDIR' : 'ENOENT' });
};
const parse = (patch: Record<string, string>) => parseCreateForm({ ...base, ...patch }, read);

test('the new fields go into the input; empty ones are left out', () => {
  assert.equal(parse({}), {
    input: { name: 'web', image: 'busybox', kernel: undefined, vcpus: 1, memoryMib: 256, disk: undefined },
  });
  const r = parse({
    mounts: ' /src:/src , /data:/data:ro,',
    publish: '8080:80,127.0.0.1:5353:53/udp',
    userData: '/f/user-data',
    sshKey: '/f/a.pub, /f/b.pub',
    run: 'yes',
  });
  assert.ok('input' in r);
  assert.equal((r as { input: object }).input, {
    ...(parse({}) as { input: object }).input,
    mounts: ['/src:/src', '/data:/data:ro'],
    publish: ['8080:80', '127.0.0.1:5353:53/udp'],
    userData: '#!/bin/sh\ntouch /ok\n',
    sshKeys: ['ssh-ed25519 AAAA a@h', 'ssh-rsa BBBB b@h'],
    run: true,
  });
  assert.not.ok('run' in (parse({ run: 'no' }) as { input: object }).input);
});

test('each failure is the message of the contract parser or the file, and names its field', () => {
  const fail = (patch: Record<string, string>) => parse(patch) as { error: string; field: string };
  assert.is(fail({ mounts: '/src:relative' }).field, 'mounts');
  assert.match(fail({ mounts: '/src:relative' }).error, /mount/i);
  assert.is(fail({ publish: '8080:0' }).field, 'publish');
  assert.is(fail({ publish: 'eighty:80' }).field, 'publish');
  const ud = fail({ userData: '/f/nope' });
  assert.is(ud.field, 'userData');
  assert.is(ud.error, 'cannot read the user-data file: no such file (ENOENT): /f/nope');
  assert.match(fail({ userData: '/f/dir' }).error, /it is a directory \(EISDIR\)/);
  assert.equal(fail({ sshKey: '/f/id' }), { error: '/f/id is a private key: give its .pub file', field: 'sshKey' });
  assert.is(fail({ sshKey: '/f/empty.pub' }).error, 'the ssh key file /f/empty.pub is empty');
  assert.is(fail({ name: 'Bad_Name', mounts: '/x:y' }).field, 'name', 'the first wrong field, in form order');
});

test('paths as a shell would expand them: ~ and relative', () => {
  assert.is(expandPath('~/.ssh/id.pub'), `${homedir()}/.ssh/id.pub`);
  assert.is(expandPath('keys/a.pub', '/home/me'), '/home/me/keys/a.pub');
  assert.is(expandPath('/abs', '/home/me'), '/abs');
});

test('the form: the old fields first (in their order), the new ones after, run a no/yes choice', () => {
  const f = createFields(['busybox'], []);
  assert.equal(
    f.map((x) => x.key),
    ['name', 'image', 'kernel', 'vcpus', 'memory', 'disk', 'mounts', 'publish', 'userData', 'sshKey', 'run'],
  );
  assert.equal(f.at(-1)!.options, ['no', 'yes']);
  assert.is(f.at(-1)!.value, 'no');
});

test.run();
