// The create form's strings -> engine input, without a screen: mounts and published ports are
// checked by the contract's parsers (host dirs made absolute and checked to exist, as the engine
// will), the user-data and ssh-key files are read and checked here, and each failure names the
// field the cursor goes back to.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { homedir } from 'node:os';
import { BangerError } from '../../../app/base/errors.js';
import { createFields, expandPath, parseCreateForm, type FormEnv } from '../../../app/screens/actions/create-form.js';

const base = { name: 'web', image: 'busybox', kernel: '(default)', vcpus: '1', memory: '256', disk: '' };
const files: Record<string, string> = {
  '/f/user-data': '#!/bin/sh\ntouch /ok\n',
  '/f/big': '#!/bin/sh\n' + 'x'.repeat(2 << 20),
  '/f/plain.txt': 'hello\n',
  '/f/a.pub': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA a@h\n',
  '/f/b.pub': 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ b@h',
  '/f/id': '-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n',
  '/f/empty.pub': '\n',
};
const dirs = new Set(['/src', '/data', '/home/me/site']);
const env: FormEnv = {
  cwd: '/home/me',
  read(p, max, tooLarge) {
    if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: dirs.has(p) ? 'EISDIR' : 'ENOENT' });
    if (files[p]!.length > max) throw new BangerError(tooLarge, `it is ${files[p]!.length} bytes; at most ${max}`);
    return files[p]!;
  },
  check: (p) => (dirs.has(p) ? { kind: 'dir', realPath: p } : { kind: 'missing' }),
};
const parse = (patch: Record<string, string>) => parseCreateForm({ ...base, ...patch }, env);
const fail = (patch: Record<string, string>) => parse(patch) as { error: string; field: string };
const plainInput = { name: 'web', image: 'busybox', kernel: undefined, vcpus: 1, memoryMib: 256, disk: undefined };

test('the new fields go into the input (host dirs absolute); empty ones are left out', () => {
  assert.equal(parse({}), { input: plainInput });
  const r = parse({
    mounts: ' /src:/src , /data:/data:ro, site:/srv,',
    publish: '8080:80,127.0.0.1:5353:53/udp',
    userData: '/f/user-data',
    sshKey: '/f/a.pub, /f/b.pub',
    run: 'yes',
  });
  assert.equal(r, {
    input: {
      ...plainInput,
      mounts: ['/src:/src', '/data:/data:ro', '/home/me/site:/srv'],
      publish: ['8080:80', '127.0.0.1:5353:53/udp'],
      userData: '#!/bin/sh\ntouch /ok\n',
      sshKeys: [files['/f/a.pub'], files['/f/b.pub']],
      run: true,
    },
  });
  assert.equal(parse({ run: 'no' }), { input: plainInput });
  assert.equal(parse({ backend: '(default)' }), { input: plainInput });
  assert.equal(parse({ backend: 'qemu' }), { input: { ...plainInput, backend: 'qemu' } });
});

test('bad specs: the contract parsers refuse them, the form names the field', () => {
  for (const m of ['/src:relative', '/nowhere:/x', ':/x'])
    assert.equal([fail({ mounts: m }).field, /mount/i.test(fail({ mounts: m }).error)], ['mounts', true], m);
  for (const p of ['8080:0', 'eighty:80', '8080:80/sctp', '70000:80'])
    assert.equal([fail({ publish: p }).field, /port/i.test(fail({ publish: p }).error)], ['publish', true], p);
  assert.is(fail({ name: 'Bad_Name', mounts: '/x:y' }).field, 'name', 'the first wrong field, in form order');
});

test('files: unreadable, too large, not user-data, a private key: each a clear error on its field', () => {
  assert.equal(fail({ userData: '/f/nope' }), {
    error: 'cannot read the user-data file: no such file (ENOENT): /f/nope',
    field: 'userData',
  });
  assert.match(fail({ userData: '/src' }).error, /it is a directory \(EISDIR\)/);
  const big = parse({ userData: '/f/big' });
  assert.match((big as { error: string }).error, /^the user-data file \/f\/big: it is \d+ bytes/);
  assert.match(fail({ userData: '/f/plain.txt' }).error, /#cloud-config/);
  const priv = fail({ sshKey: '/f/a.pub, /f/id' });
  assert.is(priv.field, 'sshKey');
  assert.match(priv.error, /^\/f\/id: not an OpenSSH public key line/);
  assert.match(fail({ sshKey: '/f/empty.pub' }).error, /^\/f\/empty\.pub: empty/);
  assert.match(fail({ sshKey: '/f/missing.pub' }).error, /cannot read the ssh key file: no such file/);
});

test("user-data keys banger's own runner ignores: a warning beside the input, as the CLI prints", () => {
  files['/f/cc'] = '#cloud-config\npackages: [vim]\nruncmd: [touch /ok]\n';
  const r = parse({ userData: '/f/cc' }) as { input: { userData?: string }; warning?: string };
  assert.is(r.input.userData, files['/f/cc']);
  assert.match(r.warning ?? '', /ignores packages/);
  assert.not.ok('warning' in (parse({ userData: '/f/user-data' }) as object), 'a script: nothing to warn about');
});

test('paths as a shell would expand them: ~ and relative', () => {
  assert.is(expandPath('~/.ssh/id.pub'), `${homedir()}/.ssh/id.pub`);
  assert.is(expandPath('keys/a.pub', '/home/me'), '/home/me/keys/a.pub');
  assert.is(expandPath('/abs', '/home/me'), '/abs');
  assert.equal((parse({ mounts: '~:/h' }) as { error: string }).error.includes(homedir()), true, '~ is the home dir');
});

test('the form: the old fields first (in their order), the new ones after, backend and run choices', () => {
  const f = createFields(['busybox'], [], ['qemu']);
  assert.equal(f.find((x) => x.key === 'backend')!.options, ['(default)', 'qemu']);
  assert.equal(
    f.map((x) => x.key),
    ['name', 'image', 'kernel', 'vcpus', 'memory', 'disk', 'backend', 'mounts', 'publish', 'userData', 'sshKey', 'run'],
  );
  assert.equal(f.at(-1)!.options, ['no', 'yes']);
  assert.is(f.at(-1)!.value, 'no');
});

test.run();
