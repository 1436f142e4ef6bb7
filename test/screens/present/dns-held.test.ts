// Issue 23 finding 8: the TUI header says who holds the engine's DNS port, not just "down".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { headerLine } from '../../../app/screens/present/chrome.js';
import type { EngineStatus } from '../../../app/contract/api.js';

const listener = { address: '127.0.0.1', port: 42070, protocols: [], forwards: false };

function status(l: EngineStatus['dns']['listeners'][number]): EngineStatus {
  return { dns: { zone: 'vm', records: 0, listeners: [l] } } as unknown as EngineStatus;
}

test('a DNS port held by another user is named in the header', () => {
  const line = headerLine(
    'attached',
    status({ ...listener, up: false, error: 'EADDRINUSE', heldBy: { uid: 1002, user: 'bob' } }),
    [],
    'cyan',
  );
  assert.match(line, /DNS 127\.0\.0\.1:42070 \{red-fg\}held by bob\{\/red-fg\}/);
  const anon = headerLine(
    'attached',
    status({ ...listener, up: false, error: 'x', heldBy: { uid: 7, user: null } }),
    [],
    'cyan',
  );
  assert.match(anon, /held by uid 7/);
});

test('a listener down for another reason still says down; an up one says nothing', () => {
  assert.match(
    headerLine('attached', status({ ...listener, up: false, error: 'EACCES' }), [], 'cyan'),
    /\{red-fg\}down\{/,
  );
  assert.not.match(headerLine('attached', status({ ...listener, up: true, error: null }), [], 'cyan'), /down|held/);
});

test.run();
