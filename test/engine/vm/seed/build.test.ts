// The seed drive's host side: the sections' files (NoCloud, keys, first boot) checked and
// collected; a real cidata ext4 made with mkfs.ext4 -d and read back with debugfs; a restore
// keeps the file it finds, a boot rebuilds it, the undo removes it; the compiled cloud-config
// quotes any text safely (run through sh for real).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { VmRecord } from '../../../../app/contract/api.js';
import { createRunner } from '../../../../app/base/process.js';
import { vmPaths } from '../../../../app/base/paths.js';
import { UndoStack } from '../../../../app/engine/driver/undo.js';
import { assetPath } from '../../../../app/engine/images/assets.js';
import { bootScripts, buildSeed, SeedBuilder, seedSizeKiB } from '../../../../app/engine/vm/seed/build.js';
import { collectSeedFiles, type SeedSection } from '../../../../app/engine/vm/seed/sections.js';
import { compileCloudConfig, shq } from '../../../../app/engine/vm/seed/cloud-config.js';
import { parseUserData, type CloudConfig } from '../../../../app/contract/user-data.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk3c2VlZHRlc3RrZXlzZWVkdGVzdGtleXNlZWR0ZXN0 me@host';
const KEY2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 other';
const runner = createRunner();

function vm(p: Partial<VmRecord> = {}): VmRecord {
  return { id: 'a1b2c3d4e5f6', name: 'web', image: null, sshKeys: [], userData: null, ...p } as VmRecord;
}

/** One file of an ext4 image, read without mounting it. */
function cat(img: string, path: string): string {
  return execFileSync('debugfs', ['-R', `cat ${path}`, img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

test('sections: NoCloud meta-data and user-data, keys from --ssh-key and the cloud-config, the compiled runner', () => {
  const ud = `#cloud-config\nssh_authorized_keys: ["${KEY2}"]\nruncmd: [echo hi]\n`;
  const files = collectSeedFiles({ vm: vm({ userData: ud, sshKeys: [KEY] }), image: null });
  assert.equal(parse(String(files['meta-data'])), {
    'instance-id': 'a1b2c3d4e5f6',
    'local-hostname': 'web',
    'public-keys': [KEY],
  });
  assert.is(files['user-data'], ud, 'cloud-init reads the user-data as given');
  assert.is(files['banger/instance-id'], 'a1b2c3d4e5f6\n');
  assert.is(files['banger/keys'], `${KEY}\n${KEY2}\n`);
  assert.match(String(files['banger/firstboot/runcmd.sh']), /\necho hi\n$/);
  assert.match(String(files['banger/firstboot/once.sh']), /runcmd\.sh/);
  const plain = collectSeedFiles({ vm: vm(), image: null });
  assert.equal(Object.keys(plain).sort(), ['banger/instance-id', 'meta-data', 'user-data']);
  assert.is(plain['user-data'], '#cloud-config\n', 'an empty cloud-config for cloud-init');
  const script = collectSeedFiles({ vm: vm({ userData: '#!/bin/sh\necho x\n' }), image: null });
  assert.is(script['banger/firstboot/user-script'], '#!/bin/sh\necho x\n');
});

test('sections: a bad path or two sections writing one file is a programming error, named', () => {
  const s = (name: string, files: Record<string, string>): SeedSection => ({ name, files: () => files });
  const ctx = { vm: vm(), image: null };
  assert.throws(() => collectSeedFiles(ctx, [s('a', { '../x': '' })]), /seed section a: bad path/);
  assert.throws(() => collectSeedFiles(ctx, [s('a', { '/abs': '' })]), /bad path/);
  assert.throws(() => collectSeedFiles(ctx, [s('a', { 'banger/x': '' }), s('b', { 'banger/x': '' })]), /a and b both/);
});

test('a real seed: ext4 labelled cidata, the files and the guest scripts, owner-only, sized to fit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'));
  try {
    const img = join(dir, 'seed.ext4');
    const big = Buffer.alloc(900 * 1024, 0x61);
    await buildSeed(
      runner,
      { 'meta-data': 'instance-id: x\n', 'banger/data/big': big },
      img,
      assetPath('guest/seed.d'),
    );
    const label = execFileSync('dumpe2fs', ['-h', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(label, /Filesystem volume name:\s+cidata/);
    assert.not.match(label, /has_journal/, 'no journal: the guest only reads it');
    assert.is(cat(img, '/meta-data'), 'instance-id: x\n');
    assert.is(cat(img, '/banger/data/big').length, big.length);
    const scripts = bootScripts(assetPath('guest/seed.d'));
    assert.ok(scripts.includes('10-keys.sh') && scripts.includes('30-firstboot.sh'), scripts.join());
    for (const s of scripts)
      assert.is(cat(img, `/banger/boot.d/${s}`), readFileSync(assetPath(`guest/seed.d/${s}`), 'utf8'), s);
    assert.is(statSync(img).mode & 0o777, 0o600, 'user-data may hold secrets');
    assert.not.ok(existsSync(`${img}.d`) || existsSync(`${img}.tmp`), 'no scratch left');
    assert.is(seedSizeKiB([10]), 1024, 'at least 1 MiB');
    assert.ok(seedSizeKiB([1024 * 1024, 1024 * 1024]) > 4096, 'twice the content');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prepare: a boot rebuilds the seed, a restore keeps the one it finds, the undo removes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seedp-'));
  try {
    const paths = { vmsDir: dir, runtimeDir: join(dir, 'run') };
    const b = new SeedBuilder({ runner, paths, image: () => null });
    const v = vm({ sshKeys: [KEY] });
    const seed = vmPaths(paths, v.id).seed;
    execFileSync('mkdir', ['-p', vmPaths(paths, v.id).dir]);
    const undo = new UndoStack();
    const drive = await b.prepare(v, { restore: false }, undo);
    assert.equal(drive, { id: 'seed', path: seed, readOnly: true });
    assert.is(cat(seed, '/banger/keys'), `${KEY}\n`);
    const ino = statSync(seed).ino;
    await b.prepare({ ...v, sshKeys: [KEY, KEY2] }, { restore: true }, new UndoStack());
    assert.is(statSync(seed).ino, ino, 'a restore keeps the seed its snapshot was taken with');
    await b.prepare({ ...v, sshKeys: [KEY, KEY2] }, { restore: false }, new UndoStack());
    assert.is(cat(seed, '/banger/keys'), `${KEY}\n${KEY2}\n`, 'a boot writes the record as it is now');
    await undo.unwind();
    assert.not.ok(existsSync(seed), 'a failed boot leaves no seed');
    await b.prepare(v, { restore: true }, new UndoStack());
    assert.ok(existsSync(seed), 'a restore with no seed builds one');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compiled commands: any text survives the quoting (run through sh)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seedq-'));
  try {
    const weird = [`a'b`, '$HOME', 'c d', '`id`', '"q"', '\\n', ';rm -rf x'];
    for (const w of weird) assert.is(execFileSync('sh', ['-c', `printf %s ${shq(w)}`], { encoding: 'utf8' }), w);
    const u = parseUserData('#cloud-config\nruncmd: [[printf, "%s|", "a\'b", "$HOME", "c d"], "printf done"]\n');
    const files = compileCloudConfig((u as { config: CloudConfig }).config);
    writeFileSync(join(dir, 'runcmd.sh'), files['banger/firstboot/runcmd.sh']);
    const out = execFileSync('sh', [join(dir, 'runcmd.sh')], { encoding: 'utf8' });
    assert.is(out, `a'b|$HOME|c d|done`, 'an argv stays literal; a string is a shell line');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
