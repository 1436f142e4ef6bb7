// Published ports through the engine on Firecracker-simulator VMs with real bridge networking,
// inside a throwaway network namespace (the fixture prints what it saw): bad specs and taken
// ports refused at create with nothing made, traffic at start, port add/rm at once on a running
// VM, closed while no engine runs, opened again by the engine that adopts the VM, a port taken
// meanwhile noted on the adopted VM, a start refused with E_PORT_TAKEN, closed at stop and delete.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../helpers/cli.js';
import { NEEDS_ROOT, runIf } from '../../helpers/skip.js';

const ns = `banger-ports-${process.pid}`;

runIf(test, NEEDS_ROOT)('published ports on simulator VMs: create, start, add/rm, adoption, stop', () => {
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const fixture = join(ROOT, 'test/engine/ports/fixtures/ports-in-netns.ts');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const res = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
    assert.is(res.error, undefined, `${res.error}\n${r.stderr}`);
    assert.equal(res.badCreates, ['E_INVALID_PORT', 'E_PORT_TAKEN', 'E_PORT_TAKEN'], 'unparsable, held, twice');
    assert.is(res.clash, 'E_PORT_TAKEN', 'another VM publishes it (0.0.0.0 overlaps 127.0.0.1)');
    assert.equal(res.vmsAfterBad, ['web'], 'nothing made by a refused create');
    assert.equal(res.running, { tcp: 'guest:ping', udp: 'guest:dns?' });
    assert.is(res.added, 'guest:ping', 'port add on a running VM listens at once');
    assert.is(res.removed, 'refused', 'port rm closes it at once');
    assert.is(res.rmMissing, 'E_NOT_FOUND');
    assert.is(res.engineDown, 'refused', 'no engine, no listener');
    assert.equal(res.adopted, { state: 'running', tcp: 'guest:ping', udp: 'guest:dns?' }, 'reopened on adoption');
    assert.is(res.adoptTaken.state, 'running', 'a taken port does not stop an adopted VM');
    assert.match(
      res.adoptTaken.lastError,
      /published port not reopened: 127\.0\.0\.1:18080:80\/tcp.*E?held by another/,
    );
    assert.is(res.adoptTaken.udp, 'guest:dns?', 'the other ports still open');
    assert.is(res.stopped.udp, 'none', 'closed at stop');
    assert.is(res.startTaken, 'E_PORT_TAKEN');
    assert.equal(res.afterTaken, { state: 'stopped', tap: null }, 'the refused start changed nothing');
    assert.is(res.restarted, 'guest:ping');
    assert.is(res.deleted, 'refused');
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
});

test.run();
