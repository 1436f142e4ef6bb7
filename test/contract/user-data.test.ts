// The first-boot checks the engine, CLI and TUI share: user-data kinds, the 1 MiB cap, the
// cloud-config subset (shapes refused with their key named), ignored keys, public key lines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ignoredWarning,
  parseUserData,
  USER_DATA_MAX_BYTES,
  validateSshKey,
  validateSshKeys,
} from '../../app/contract/user-data.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk3c2VlZHRlc3RrZXlzZWVkdGVzdGtleXNlZWR0ZXN0 me@host';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
  return 'no error';
}

test('kinds: none, a #! script, a cloud-config; anything else is refused', () => {
  assert.equal(parseUserData(undefined), { kind: 'none' });
  assert.equal(parseUserData(''), { kind: 'none' });
  assert.equal(parseUserData('#!/bin/sh\necho hi\n'), { kind: 'script' });
  const u = parseUserData('#cloud-config\n');
  assert.is(u.kind, 'cloud-config');
  assert.match(
    code(() => parseUserData('runcmd: [ls]\n')),
    /^E_INVALID_ARGUMENT: .*#cloud-config/,
  );
});

test('the cap: 1 MiB passes, one byte more is E_USER_DATA_TOO_LARGE', () => {
  const at = '#!/bin/sh\n' + '#'.repeat(USER_DATA_MAX_BYTES - 10);
  assert.is(Buffer.byteLength(at), USER_DATA_MAX_BYTES);
  assert.is(parseUserData(at).kind, 'script');
  assert.match(
    code(() => parseUserData(at + 'x')),
    /^E_USER_DATA_TOO_LARGE: .*1048577 bytes/,
  );
});

test('the subset: write_files (b64, mode, owner, append), runcmd/bootcmd strings and argvs, keys, hostname', () => {
  const u = parseUserData(
    [
      '#cloud-config',
      'hostname: web1',
      'write_files:',
      '  - path: /etc/a',
      '    content: hello',
      '  - path: /etc/b',
      '    encoding: b64',
      '    content: aGkK',
      "    permissions: '0600'",
      '    owner: www:www',
      '    append: true',
      'runcmd:',
      '  - echo one',
      '  - [printf, "%s", 42]',
      'bootcmd: [date]',
      `ssh_authorized_keys: ["${KEY}"]`,
      'packages: [nginx]',
      'users: []',
    ].join('\n'),
  );
  if (u.kind !== 'cloud-config') throw new Error(u.kind);
  const c = u.config;
  assert.is(c.hostname, 'web1');
  assert.is(c.writeFiles[0].content.toString(), 'hello');
  assert.equal([c.writeFiles[0].mode, c.writeFiles[0].owner, c.writeFiles[0].append], [0o644, 'root:root', false]);
  assert.is(c.writeFiles[1].content.toString(), 'hi\n', 'b64 decoded');
  assert.equal([c.writeFiles[1].mode, c.writeFiles[1].owner, c.writeFiles[1].append], [0o600, 'www:www', true]);
  assert.equal(c.runcmd, ['echo one', ['printf', '%s', '42']]);
  assert.equal(c.bootcmd, ['date']);
  assert.equal(c.sshAuthorizedKeys, [KEY]);
  assert.equal(u.ignored, ['packages', 'users']);
  assert.match(ignoredWarning(u)!, /ignores packages, users .*applies write_files, runcmd/);
  assert.is(ignoredWarning(parseUserData('#cloud-config\nruncmd: [ls]\n')), null);
  const fqdn = parseUserData('#cloud-config\nhostname: web-1.example.com\n');
  assert.is(fqdn.kind === 'cloud-config' && fqdn.config.hostname, 'web-1.example.com');
});

test('wrong shapes are refused with the key named', () => {
  for (const [body, re] of [
    ['runcmd: ls', /runcmd must be a list/],
    ['runcmd: [{a: 1}]', /runcmd\[0\] must be a string/],
    ['write_files: [{content: x}]', /write_files\[0\]\.path must be an absolute path/],
    ['write_files: [{path: /a/../etc/x}]', /without "\.\."/],
    ['write_files: [{path: /a, encoding: gzip}]', /encoding "gzip"/],
    ["write_files: [{path: /a, permissions: 'rw'}]", /permissions "rw"/],
    ['write_files: [{path: /a, owner: "a b"}]', /owner "a b"/],
    ['hostname: "no_underscores"', /hostname/],
    ['hostname: "-dash"', /hostname/],
    ['hostname: "a..b"', /hostname/],
    ['ssh_authorized_keys: [nope]', /ssh_authorized_keys\[0\]: not an OpenSSH public key/],
    ['[1, 2]', /must be a YAML mapping/],
    ['a: [1\nb: 2', /not valid YAML/],
    ['a: 1\na: 2', /not valid YAML/],
  ] as const) {
    assert.match(
      code(() => parseUserData(`#cloud-config\n${body}\n`)),
      re,
      body,
    );
  }
});

test('public keys: a line each, comments and blanks skipped, duplicates once; a private key refused without echoing it', () => {
  assert.is(validateSshKey(`  ${KEY}\n`), KEY);
  assert.equal(validateSshKeys([`# mine\n${KEY}\n\n`, KEY]), [KEY]);
  const priv = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
  const msg = code(() => validateSshKeys([priv]));
  assert.match(msg, /^E_INVALID_ARGUMENT: ssh key 1: not an OpenSSH public key line/);
  assert.not.match(msg, /b3BlbnNzaC1rZXktdjEAAAAA/, 'the secret is not echoed');
  assert.match(
    code(() => validateSshKeys(['\n# nothing\n'])),
    /ssh key 1: empty/,
  );
  assert.match(
    code(() => validateSshKeys('x')),
    /must be a list/,
  );
});

test.run();
