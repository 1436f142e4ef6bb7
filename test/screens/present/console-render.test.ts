import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConsoleModel } from '../../../app/screens/present/console-render.js';
import { styleTags, DEFAULT_STYLE } from '../../../app/screens/present/colors.js';
import { keyToBytes } from '../../../app/screens/views/console.js';

test('carriage returns and cursor moves are applied, not printed', async () => {
  const m = new ConsoleModel(20, 4);
  await m.write('progress 10%\rprogress 99%\r\n');
  await m.write('abc\x1b[2Dz\r\n'); // cursor left 2, overwrite
  const lines = m.visibleLines(0);
  assert.is(lines[0], 'progress 99%');
  assert.is(lines[1], 'azc');
  m.dispose();
});

test('SGR colours become blessed tags; braces are escaped', async () => {
  const m = new ConsoleModel(30, 2);
  await m.write('\x1b[1;32mOK\x1b[0m {x} \x1b[38;5;202mo\x1b[38;2;255;0;0mr\x1b[0m');
  const [line] = m.visibleLines(0);
  assert.is(line, '{bold}{2-fg}OK{/2-fg}{/bold} {open}x{close} {202-fg}o{/202-fg}{#ff0000-fg}r{/#ff0000-fg}');
  m.dispose();
});

test('SGR state carries across chunk boundaries, even mid-sequence', async () => {
  const m = new ConsoleModel(20, 2);
  await m.write('\x1b[3');
  await m.write('1mred');
  await m.write(' still\x1b[0m');
  assert.is(m.visibleLines(0)[0], '{1-fg}red still{/1-fg}');
  m.dispose();
});

test('scrollback: older lines are reachable, the live view is the bottom', async () => {
  const m = new ConsoleModel(10, 3);
  for (let i = 0; i < 10; i++) await m.write(`l${i}\r\n`);
  assert.equal(m.visibleLines(0), ['l8', 'l9', '']);
  assert.is(m.maxScroll, 8);
  assert.equal(m.visibleLines(5), ['l3', 'l4', 'l5']);
  assert.equal(m.visibleLines(999), ['l0', 'l1', 'l2']);
  m.dispose();
});

test('style tags close in reverse order and default style is bare', () => {
  assert.equal(styleTags(DEFAULT_STYLE), { open: '', close: '' });
  const t = styleTags({
    ...DEFAULT_STYLE,
    bold: true,
    fg: { kind: 'palette', index: 4 },
    bg: { kind: 'rgb', rgb: 0x00ff00 },
  });
  assert.is(t.open, '{bold}{4-fg}{#00ff00-bg}');
  assert.is(t.close, '{/#00ff00-bg}{/4-fg}{/bold}');
});

test('input mode sends raw key sequences, once per Enter', () => {
  assert.is(keyToBytes('a', { name: 'a', sequence: 'a' }), 'a');
  assert.is(keyToBytes('\r', { name: 'enter', sequence: '\r' }), '\r');
  assert.is(keyToBytes('\r', { name: 'return', sequence: '\r' }), null);
  assert.is(keyToBytes(undefined, { name: 'up', sequence: '\x1b[A' }), '\x1b[A');
  assert.is(keyToBytes('\x03', { name: 'c', ctrl: true, sequence: '\x03' }), '\x03');
});

test.run();
