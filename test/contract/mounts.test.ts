// The --mount parser and rules (shared by the engine and the TUI form): each bad spec refused
// with E_INVALID_MOUNT and its reason; defaults, tags and the whole-list checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MAX_MOUNTS,
  absoluteMountSpec,
  formatMount,
  parseMountSpec,
  planMounts,
  withoutMount,
  type HostDirCheck,
} from '../../app/contract/mounts.js';
import type { MountSpec } from '../../app/contract/api.js';

// A host with /src and /data (a symlink to /real/data), and /file (not a dir).
const host: HostDirCheck = (p) => {
  if (p === '/src' || p === '/work/src') return { kind: 'dir', realPath: p };
  if (p === '/data') return { kind: 'dir', realPath: '/real/data' };
  if (p === '/file') return { kind: 'not-dir' };
  return { kind: 'missing' };
};

function refused(fn: () => unknown, reason: RegExp): void {
  try {
    fn();
    assert.unreachable('should have been refused');
  } catch (e) {
    const err = e as { code: string; message: string };
    assert.is(err.code, 'E_INVALID_MOUNT', err.message);
    assert.match(err.message, reason);
  }
}

test('parse: HOSTDIR alone mounts at the same path, read-write', () => {
  assert.equal(parseMountSpec('/src', null), { hostDir: '/src', guestDir: '/src', readOnly: false });
});

test('parse: GUESTDIR and :ro / :rw', () => {
  assert.equal(parseMountSpec('/src:/mnt/s', null), { hostDir: '/src', guestDir: '/mnt/s', readOnly: false });
  assert.equal(parseMountSpec('/src:/mnt/s:ro', null), { hostDir: '/src', guestDir: '/mnt/s', readOnly: true });
  assert.equal(parseMountSpec('/src:ro', null), { hostDir: '/src', guestDir: '/src', readOnly: true });
  assert.equal(parseMountSpec('/src:/x/:rw', null), { hostDir: '/src', guestDir: '/x', readOnly: false });
});

test('parse: a relative HOSTDIR resolves against cwd, or is refused without one', () => {
  assert.equal(parseMountSpec('src:/s', '/work').hostDir, '/work/src');
  refused(() => parseMountSpec('src:/s', null), /must be an absolute path/);
});

test('parse: bad specs', () => {
  refused(() => parseMountSpec('/src:rel/dir', null), /guest directory "rel\/dir" must be absolute/);
  refused(() => parseMountSpec('/src:', null), /guest directory is empty/);
  refused(() => parseMountSpec(':/x', null), /host directory is empty/);
  refused(() => parseMountSpec('/src:/a:/b', null), /expected HOSTDIR/);
  refused(() => parseMountSpec('/src:/a b', null), /must not contain spaces/);
  refused(() => parseMountSpec('/a,b:/x', null), /must not contain spaces or ","/);
  refused(() => parseMountSpec('/src:/proc', null), /"\/proc" is a system directory/);
  refused(() => parseMountSpec('/src:/', null), /"\/" is a system directory/);
  refused(() => parseMountSpec('/src:/etc/', null), /"\/etc" is a system directory/);
});

test('plan: host dirs checked and resolved, tags m0 m1..., duplicates and missing refused', () => {
  const ms = planMounts([], ['/src:/s', '/data:/d:ro'], null, host);
  assert.equal(ms, [
    { hostDir: '/src', guestDir: '/s', readOnly: false, tag: 'm0' },
    { hostDir: '/real/data', guestDir: '/d', readOnly: true, tag: 'm1' },
  ]);
  refused(() => planMounts([], ['/nope:/n'], null, host), /host directory \/nope does not exist/);
  refused(() => planMounts([], ['/file:/f'], null, host), /\/file is not a directory/);
  refused(() => planMounts(ms, ['/src:/s/'], null, host), /guest directory \/s is already mounted \(from \/src\)/);
  refused(() => planMounts([], ['/src:/a', '/data:/a'], null, host), /already mounted/);
});

test('plan: a freed tag is reused; at most MAX_MOUNTS', () => {
  const ms = planMounts([], ['/src:/a', '/src:/b', '/src:/c'], null, host);
  const next = planMounts(withoutMount(ms, '/b'), ['/data:/e'], null, host);
  assert.equal(
    next.map((m) => m.tag),
    ['m0', 'm2', 'm1'],
  );
  const many = Array.from({ length: MAX_MOUNTS + 1 }, (_, i) => `/src:/m${i}`);
  refused(() => planMounts([], many, null, host), new RegExp(`at most ${MAX_MOUNTS}`));
});

test('withoutMount: by guest dir; an unknown one is E_NOT_FOUND', () => {
  const ms: MountSpec[] = [{ hostDir: '/src', guestDir: '/s', readOnly: false, tag: 'm0' }];
  assert.equal(withoutMount(ms, '/s/'), []);
  try {
    withoutMount(ms, '/t');
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code: string }).code, 'E_NOT_FOUND');
  }
});

test('absoluteMountSpec and formatMount', () => {
  assert.is(absoluteMountSpec('src:/s:ro', '/work'), '/work/src:/s:ro');
  assert.is(absoluteMountSpec('./src', '/work'), '/work/src');
  assert.is(absoluteMountSpec('/abs:/s', '/work'), '/abs:/s');
  assert.is(formatMount({ hostDir: '/h', guestDir: '/g', readOnly: true, tag: 'm0' }), '/h:/g:ro');
});

test.run();
