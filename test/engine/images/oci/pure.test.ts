// The pure parts of OCI import: REF and platform parsing, skopeo's messages to stable codes,
// tar entry names, and the debugfs script for owners and devices.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatImageRef, isTransportRef, parseImageRef, parsePlatform } from '../../../../app/contract/image-ref.js';
import { skopeoError } from '../../../../app/engine/images/oci/skopeo.js';
import { cleanName } from '../../../../app/engine/images/oci/layers.js';
import { fixupScript } from '../../../../app/engine/images/oci/fixups.js';
import { BangerError } from '../../../../app/base/errors.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as BangerError).code;
  }
  return 'ok';
};

test('REFs: the four transports parse; a path is not a transport; junk is E_INVALID_ARGUMENT', () => {
  assert.equal(parseImageRef('docker://localhost:5000/a/b:v1'), {
    transport: 'docker',
    location: 'localhost:5000/a/b:v1',
    tag: null,
  });
  assert.ok(parseImageRef(`docker://docker.io/library/alpine@sha256:${'a'.repeat(64)}`));
  assert.equal(parseImageRef('oci:/x/lay:t1'), { transport: 'oci', location: '/x/lay', tag: 't1' });
  assert.equal(parseImageRef('oci-archive:/x/a.tar'), { transport: 'oci-archive', location: '/x/a.tar', tag: null });
  assert.equal(parseImageRef('docker-archive:/x/d.tar'), {
    transport: 'docker-archive',
    location: '/x/d.tar',
    tag: null,
  });
  assert.is(
    formatImageRef(parseImageRef('oci:lay:t'), (p) => `/abs/${p}`),
    'oci:/abs/lay:t',
  );
  assert.not.ok(isTransportRef('/tmp/rootfs.tar'));
  assert.ok(isTransportRef('oci-archive:/a'));
  for (const bad of ['docker://', 'docker://UPPER/x', 'docker://host', 'oci:', 'oci:/x:', 'ftp://x'])
    assert.is(
      codeOf(() => parseImageRef(bad)),
      'E_INVALID_ARGUMENT',
      bad,
    );
});

test('platforms: linux/ARCH[/VARIANT] only', () => {
  assert.equal(parsePlatform('linux/arm64'), { os: 'linux', arch: 'arm64', variant: null });
  assert.equal(parsePlatform('linux/arm/v7'), { os: 'linux', arch: 'arm', variant: 'v7' });
  for (const bad of ['windows/amd64', 'linux', 'amd64', 'linux/amd64/v9'])
    assert.is(
      codeOf(() => parsePlatform(bad)),
      'E_INVALID_ARGUMENT',
      bad,
    );
});

test("skopeo's failures map to stable codes", () => {
  const reg = 'docker://127.0.0.1:5000/x:1';
  const cases: [string, string, string][] = [
    [reg, 'reading manifest 1 in 127.0.0.1:5000/x: manifest unknown', 'E_UNKNOWN_REF'],
    [reg, 'choosing image instance: no image found in manifest list for architecture s390x', 'E_UNKNOWN_REF'],
    [reg, 'reading manifest 1: unauthorized: authentication required', 'E_REGISTRY_AUTH'],
    [
      reg,
      'pinging container registry 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused',
      'E_REGISTRY_UNREACHABLE',
    ],
    [reg, 'http: server gave HTTP response to HTTPS client', 'E_REGISTRY_UNREACHABLE'],
    [reg, 'writing blob: Digest did not match, expected sha256:aa, got sha256:bb', 'E_DIGEST_MISMATCH'],
    ['oci:/x:t', 'no descriptor found for reference "t"', 'E_UNKNOWN_REF'],
    ['docker-archive:/x.tar', 'loading tar component manifest.json: unexpected EOF', 'E_INVALID_ARGUMENT'],
  ];
  for (const [src, msg, code] of cases)
    assert.is(skopeoError(src, `time="t" level=fatal msg="${msg}"`).code, code, msg);
});

test('tar names: made relative; climbing out stays at the root, as in a chroot', () => {
  assert.is(cleanName('./etc/passwd'), 'etc/passwd');
  assert.is(cleanName('/abs/x/'), 'abs/x');
  assert.is(cleanName('./'), '');
  assert.is(cleanName('a/../../etc'), 'etc');
  assert.is(cleanName('a/./b'), 'a/b');
});

test('debugfs script: devices made in their directory, owners and xattrs set, unquotable paths skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-fix-'));
  try {
    const meta = new Map([
      ['dev/null', { uid: 0, gid: 0, mode: 0o020666, node: { kind: 'c' as const, major: 1, minor: 3 } }],
      ['home/a', { uid: 1000, gid: 100, mode: 0o40750 }],
      ['x', { uid: 0, gid: 0, mode: 0o644, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2]) } }],
      ['bad"name', { uid: 5, gid: 5, mode: 0o644 }],
    ]);
    const { script, skipped } = fixupScript(meta, dir);
    assert.match(
      script,
      /rm "\/dev\/null"\ncd "\/dev"\nmknod "null" c 1 3\ncd \/\nsif "\/dev\/null" mode 020666\nsif "\/dev\/null" uid 0\nsif "\/dev\/null" gid 0\n/,
    );
    assert.match(script, /sif "\/home\/a" uid 1000\nsif "\/home\/a" gid 100\n/);
    assert.match(script, new RegExp(`ea_set -f ${dir}/x0 "/x" security.capability`));
    assert.equal([...readFileSync(join(dir, 'x0'))], [1, 0, 0, 2]);
    assert.equal(skipped, ['bad"name']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
