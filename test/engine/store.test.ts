import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Store } from '../../app/engine/store.js';
import { MIGRATIONS } from '../../app/engine/store-migrations.js';
import { tmpState } from '../helpers/tmp.js';
import { vmRecord } from '../helpers/builders.js';

const vm = (id: string, name: string) =>
  vmRecord({ id, name, image: null, kernel: null, mac: `06:00:00:00:00:${id.slice(-2)}` });

test('migrations run on an empty DB and are recorded', () => {
  const t = tmpState();
  try {
    assert.not.ok(existsSync(t.paths.dbFile));
    const s = new Store(t.paths.dbFile);
    const applied = s.migrations();
    assert.equal(
      applied.map((m) => m.version),
      MIGRATIONS.map((m) => m.version),
    );
    assert.is(s.db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = (
      s.db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
    for (const name of ['vms', 'images', 'kernels', 'leases', 'events', 'schema_migrations'])
      assert.ok(tables.includes(name), name);
    s.close();
  } finally {
    t.cleanup();
  }
});

test('re-opening an existing DB keeps its rows and does not re-apply migrations', () => {
  const t = tmpState();
  try {
    const s1 = new Store(t.paths.dbFile);
    s1.insertVm(vm('aaaaaaaaaa01', 'one'));
    const first = s1.migrations();
    s1.close();
    const s2 = new Store(t.paths.dbFile);
    assert.equal(s2.migrations(), first, 'applied_at unchanged: nothing re-applied');
    assert.is(s2.listVms().length, 1);
    assert.is(s2.getVm('ONE')?.id, 'aaaaaaaaaa01', 'lookup folds case');
    s2.close();
  } finally {
    t.cleanup();
  }
});

test('a DB with an older schema gets only the missing migrations', () => {
  const t = tmpState();
  try {
    // Simulate a DB created by a build that knew no migrations yet.
    const raw = new Database(t.paths.dbFile);
    raw.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    raw.close();
    const s = new Store(t.paths.dbFile);
    assert.is(s.migrations().length, MIGRATIONS.length);
    s.close();
  } finally {
    t.cleanup();
  }
});

test('deleteVm removes the VM and its lease in one transaction', () => {
  const t = tmpState();
  try {
    const s = new Store(t.paths.dbFile);
    s.insertVm(vm('aaaaaaaaaa02', 'two'));
    assert.ok(s.tryLease('172.30.0.2', 'aaaaaaaaaa02'));
    assert.is(s.getVm('two')?.ip, '172.30.0.2');
    assert.not.ok(s.tryLease('172.30.0.2', 'bbbbbbbbbb02'), 'an address is never leased twice');
    s.deleteVm('aaaaaaaaaa02');
    assert.is(s.getVm('two'), null);
    assert.is(s.listLeases().length, 0);
    s.close();
  } finally {
    t.cleanup();
  }
});

test('a failing transaction leaves nothing behind', () => {
  const t = tmpState();
  try {
    const s = new Store(t.paths.dbFile);
    assert.throws(
      () =>
        s.tx(() => {
          s.insertVm(vm('aaaaaaaaaa03', 'three'));
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.is(s.listVms().length, 0);
    s.close();
  } finally {
    t.cleanup();
  }
});

test('image and kernel deletes are refused while a VM uses them', () => {
  const t = tmpState();
  try {
    const s = new Store(t.paths.dbFile);
    const now = new Date().toISOString();
    s.insertImage({
      name: 'img',
      source: 'busybox',
      path: '/x',
      sizeBytes: 1,
      sha256: 'x',
      buildLog: null,
      createdAt: now,
    });
    s.insertKernel({ name: 'k', path: '/k', initrdPath: null, source: 'add', version: null, createdAt: now });
    s.insertVm({ ...vm('aaaaaaaaaa04', 'four'), image: 'img', kernel: 'k' });
    try {
      s.deleteImage('img');
      assert.unreachable();
    } catch (e) {
      assert.is((e as { code: string }).code, 'E_IN_USE');
    }
    try {
      s.deleteKernel('k');
      assert.unreachable();
    } catch (e) {
      assert.is((e as { code: string }).code, 'E_IN_USE');
    }
    assert.ok(s.getImage('img'));
    assert.ok(s.getKernel('k'));
    s.close();
  } finally {
    t.cleanup();
  }
});

test('list() follows every VM and lease write, and shows nothing of a rolled-back transaction', () => {
  const t = tmpState();
  try {
    const s = new Store(t.paths.dbFile);
    assert.equal(s.listVms(), []);
    s.insertVm(vm('aaaaaaaaaa05', 'five'));
    assert.equal(
      s.listVms().map((v) => v.name),
      ['five'],
      'insert',
    );
    s.updateVm('aaaaaaaaaa05', { state: 'running' });
    assert.is(s.listVms()[0].state, 'running', 'update');
    s.tryLease('172.30.0.9', 'aaaaaaaaaa05');
    assert.is(s.listVms()[0].ip, '172.30.0.9', 'lease');
    s.releaseLease('aaaaaaaaaa05');
    assert.is(s.listVms()[0].ip, null, 'release');
    assert.throws(() =>
      s.tx(() => {
        s.insertVm(vm('aaaaaaaaaa06', 'six'));
        s.listVms();
        throw new Error('rollback');
      }),
    );
    assert.equal(
      s.listVms().map((v) => v.name),
      ['five'],
      'nothing from the rolled-back transaction',
    );
    assert.equal(s.listVms()[0], s.getVm('five'), 'list and get map rows the same way');
    s.deleteVm('aaaaaaaaaa05');
    assert.equal(s.listVms(), [], 'delete');
    s.close();
  } finally {
    t.cleanup();
  }
});

test('a VM keeps its mounts, ports, user-data, keys and run flag; an image keeps its OCI config', () => {
  const t = tmpState();
  try {
    const s = new Store(t.paths.dbFile);
    const mounts = [{ hostDir: '/srv/src', guestDir: '/work', readOnly: true, tag: 'm0' }];
    const ports = [{ addr: '127.0.0.1', hostPort: 8080, guestPort: 80, proto: 'tcp' as const }];
    s.insertVm({ ...vm('aaaaaaaaaa07', 'extras'), mounts, userData: '#!/bin/sh\necho hi\n', run: true });
    let got = s.getVm('extras')!;
    assert.equal(got.mounts, mounts);
    assert.equal(got.ports, []);
    assert.is(got.userData, '#!/bin/sh\necho hi\n');
    assert.is(got.run, true);
    got = s.updateVm(got.id, { ports, sshKeys: ['ssh-ed25519 AAAA k'], run: false });
    assert.equal(got.ports, ports);
    assert.equal(got.sshKeys, ['ssh-ed25519 AAAA k']);
    assert.is(got.run, false);
    assert.equal(
      s.listVms().find((v) => v.name === 'extras'),
      got,
      'the list maps the same columns as the single read',
    );
    const config = {
      env: ['A=1'],
      entrypoint: ['/bin/app'],
      cmd: ['-v'],
      workingDir: '/',
      user: null,
      exposedPorts: [],
    };
    s.insertImage({
      name: 'oci',
      source: 'docker://x/y:1',
      path: '/i',
      sizeBytes: 1,
      sha256: 'a',
      buildLog: null,
      config,
      createdAt: new Date().toISOString(),
    });
    assert.equal(s.getImage('oci')!.config, config);
    assert.equal(s.listImages()[0].config, config);
    s.close();
  } finally {
    t.cleanup();
  }
});

test.run();
