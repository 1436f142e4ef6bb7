// Build history in the store (issue 25 #4): what one engine built is listed by the next one,
// a build left "running" by a dead engine is marked interrupted, and the history is bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../../app/engine/store.js';
import { tmpState } from '../helpers/tmp.js';
import type { BuildProgress } from '../../app/contract/api.js';

function build(id: string, over: Partial<BuildProgress> = {}): BuildProgress {
  return {
    id,
    kind: 'image',
    name: id,
    phase: 'queued',
    percent: 0,
    state: 'running',
    error: null,
    logPath: `/logs/${id}.log`,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, Number(id.replace(/\D/g, '')) || 0)).toISOString(),
    endedAt: null,
    ...over,
  };
}

test('a build recorded by one store is listed by the next, with its latest state', () => {
  const t = tmpState('banger-store-builds-');
  try {
    const a = new Store(t.paths.dbFile);
    a.putBuild(build('b1'));
    a.putBuild(build('b1', { phase: 'copy', percent: 40 }));
    a.putBuild(build('b1', { phase: 'copy', percent: 100, state: 'done', endedAt: '2026-01-01T00:01:00.000Z' }));
    a.putBuild(build('b2', { kind: 'kernel' }));
    a.close();
    const b = new Store(t.paths.dbFile);
    const [b1, b2] = b.listBuilds();
    assert.equal(b1, build('b1', { phase: 'copy', percent: 100, state: 'done', endedAt: '2026-01-01T00:01:00.000Z' }));
    assert.is(b2?.kind, 'kernel');
    assert.is(b.endInterruptedBuilds(), 1);
    const after = b.listBuilds()[1]!;
    assert.is(after.state, 'failed');
    assert.match(after.error ?? '', /interrupted/);
    assert.ok(after.endedAt);
    assert.is(b.endInterruptedBuilds(), 0);
    b.close();
  } finally {
    t.cleanup();
  }
});

test('the history keeps the last 50 ended builds, oldest dropped first', () => {
  const t = tmpState('banger-store-builds-');
  try {
    const s = new Store(t.paths.dbFile);
    for (let i = 1; i <= 55; i++) s.putBuild(build(`b${i}`, { state: 'done', endedAt: new Date().toISOString() }));
    const ids = s.listBuilds().map((b) => b.id);
    assert.is(ids.length, 50);
    assert.is(ids[0], 'b6');
    assert.is(ids[49], 'b55');
    s.close();
  } finally {
    t.cleanup();
  }
});

test.run();
