// The pure text of what a VM brings in and of an image's OCI config: the detail pane's lines
// (only what is set, cut to the width), the overlay's pairs (everything, one line per item).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ImageRecord, VmRecord } from '../../../app/contract/api.js';
import {
  firstBootText,
  imageConfigPairs,
  imageDetailPairs,
  portText,
  vmExtraLines,
  vmExtraPairs,
} from '../../../app/screens/present/vm-extras.js';

const plain = { name: 'web' } as VmRecord;
const rich = {
  name: 'web',
  mounts: [{ hostDir: '/h/{x}', guestDir: '/x', readOnly: true, tag: 'm0' }],
  ports: [{ addr: '::1', hostPort: 8080, guestPort: 80, proto: 'tcp' }],
  userData: 'é'.repeat(600),
  sshKeys: ['k'],
  run: false,
} as VmRecord;

test('pane lines: none for a plain VM; tags escaped; cut to the width', () => {
  assert.equal(vmExtraLines(plain, 80), []);
  const lines = vmExtraLines(rich, 40);
  assert.is(lines.length, 3);
  assert.is(lines[0], '{bold}mounts     {/bold}/h/{open}x{close} → /x (ro)' + ' '.repeat(13), 'padded to the width');
  assert.match(lines[1]!, /\[::1\]:8080 → 80\/tcp/);
  assert.match(lines[2]!, /user-data yes, 1\.2K; ssh 1 k…$/, 'bytes, not characters; cut with an ellipsis');
});

test('first boot: null when nothing is set; a run flag alone counts', () => {
  assert.is(firstBootText(plain), null);
  assert.is(firstBootText({ run: true }), 'user-data no; ssh none; run yes');
});

test('overlay pairs: every fact, a label on the first of a list', () => {
  assert.equal(vmExtraPairs(plain), [
    ['mounts', 'none'],
    ['ports', 'none'],
    ['user-data', 'no'],
    ['ssh keys', 'none'],
    ['run', 'no'],
  ]);
  const two = { ...rich, ports: [...rich.ports!, { addr: '0.0.0.0', hostPort: 53, guestPort: 53, proto: 'udp' }] };
  assert.equal(vmExtraPairs(two as VmRecord).slice(1, 3), [
    ['ports', '[::1]:8080 → 80/tcp'],
    ['', '0.0.0.0:53 → 53/udp'],
  ]);
  assert.is(portText({ addr: '127.0.0.1', hostPort: 1, guestPort: 2, proto: 'udp' }), '127.0.0.1:1 → 2/udp');
});

test('image config: nothing without one; argv quoted as a shell reads it back', () => {
  assert.equal(imageConfigPairs(null), []);
  const pairs = imageConfigPairs({
    env: [],
    entrypoint: [],
    cmd: ['sh', '-c', "echo 'hi there'"],
    workingDir: '/app',
    user: 'www',
    exposedPorts: ['80/tcp', '443/tcp'],
    digest: 'sha256:abc',
  });
  assert.equal(pairs, [
    ['entrypoint', '-'],
    ['cmd', `sh -c 'echo '\\''hi there'\\'''`],
    ['workdir', '/app'],
    ['user', 'www'],
    ['exposed ports', '80/tcp, 443/tcp'],
    ['env', 'none'],
    ['digest', 'sha256:abc'],
  ]);
  const img = {
    name: 'n',
    source: 'docker://x',
    sizeBytes: 1024,
    sha256: 's',
    path: '/p',
    createdAt: 't',
  } as ImageRecord;
  assert.equal(
    imageDetailPairs(img).map(([k]) => k),
    ['name', 'source', 'size', 'init', 'sha256', 'path', 'created'],
  );
});

test.run();
