import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bindingsFor,
  footerText,
  helpLines,
  KEY_TABLE,
  keyName,
  resolveKey,
  SCREENS,
  tableProblems,
  type KeyBinding,
} from '../../app/screens/keys.js';

test('the key table has no duplicate key per screen and every key has a label', () => {
  assert.equal(tableProblems(KEY_TABLE), []);
  for (const b of KEY_TABLE) assert.ok(b.label.trim().length > 0, `${b.screen}/${b.key}`);
});

test('tableProblems catches duplicates and missing labels', () => {
  const bad: KeyBinding[] = [
    { screen: 'vms', key: 's', label: 'start', action: 'start' },
    { screen: 'vms', key: 's', label: 'stop', action: 'stop' },
    { screen: 'dns', key: 'x', label: ' ', action: 'stop' },
  ];
  assert.equal(tableProblems(bad), ['duplicate key vms/s', 'no label for dns/x']);
});

test('screen bindings shadow globals; globals apply elsewhere', () => {
  assert.is(resolveKey('vms', 's'), 'start');
  assert.is(resolveKey('vms', 'q'), 'quit');
  assert.is(resolveKey('dns', 's'), null);
  assert.is(resolveKey('console', 'escape'), 'back');
  assert.is(resolveKey('vms', 'escape'), 'back');
  const own = { screen: 'vms' as const, key: 'q', label: 'other', action: 'help' as const };
  assert.is(
    resolveKey(
      'vms',
      'q',
      [...KEY_TABLE, own].filter((b) => !(b.screen === 'vms' && b.key === 'q' && b !== own)),
    ),
    'help',
  );
});

test('keyName normalises blessed key events', () => {
  assert.is(keyName('s', { name: 's' }), 's');
  assert.is(keyName('S', { name: 's', shift: true }), 'S');
  assert.is(keyName('\r', { name: 'enter' }), 'enter');
  assert.is(keyName('\r', { name: 'return' }), null); // blessed's duplicate of enter
  assert.is(keyName(undefined, { name: 'tab', shift: true }), 'S-tab');
  assert.is(keyName('\x03', { name: 'c', ctrl: true }), 'C-c');
  assert.is(keyName('?', { name: undefined }), '?');
  assert.is(keyName(undefined, { name: 'pageup' }), 'pageup');
  assert.is(keyName(' ', { name: 'space' }), ' ');
});

test('footer comes from the table and fits the width on whole hints', () => {
  const plain = (t: string) => t.replace(/\{[^}]*\}/g, '');
  const wide = plain(footerText('vms', 200));
  for (const b of bindingsFor('vms').filter((x) => x.footer)) assert.ok(wide.includes(b.label), b.label);
  const narrow = plain(footerText('vms', 40));
  assert.ok(narrow.length <= 40, narrow);
  assert.ok(narrow.startsWith('c create'));
  assert.not.ok(narrow.includes('command'));
});

test('help lists every action of each screen once, plus the commands', () => {
  for (const s of SCREENS) {
    const text = helpLines(s).join('\n');
    for (const b of bindingsFor(s)) assert.ok(text.includes(b.label), `${s}: ${b.label}`);
    assert.ok(text.includes(':metrics'));
  }
  const vms = helpLines('vms').filter((l) => /\s{2}up$/.test(l));
  assert.is(vms.length, 1); // k and ↑ folded into one row
});

test.run();
