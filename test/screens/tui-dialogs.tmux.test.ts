// The error dialog in a real terminal (issue 25 #3, #6): drawn over the table whatever the
// terminal's terminfo format (screen-256color is ncurses 6's 32-bit format, which blessed
// misreads), keys go to it until dismissed, and once dismissed the status line lets go of the error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmuxSession, tuiCommand } from './tmux.js';

let s: TmuxSession;
const row = (x: string) => x.split('\n').find((l) => l.startsWith('vm-0000 ')) ?? '';
const statusLine = (x: string) => {
  const lines = x.replace(/\n+$/, '').split('\n');
  return lines[lines.length - 2] ?? '';
};

test.before(() => {
  s = TmuxSession.start(`banger-tui-dialogs-${process.pid}`, tuiCommand(), {
    width: 100,
    height: 30,
    env: { TERM: 'screen-256color', FAKE_TRANSITION_MS: '100', FAKE_VMS: '1' },
  });
});
test.after(() => s?.kill());

test('an error dialog is drawn, holds the keys, and its error leaves the status line once dismissed', async () => {
  try {
    const first = await s.waitFor((x) => /running/.test(row(x)), 8000, 'table');
    // The frame is whole: header on line 1, column titles on line 3.
    assert.match(first.split('\n')[0]!, /^ banger {2}\[embedded\]/);
    assert.match(first.split('\n')[2]!, /^NAME\s+STATE\s+IP/);
    s.keys('s'); // start a running VM: refused
    const dlg = await s.waitFor(
      (x) => x.includes('┌─ start vm-0000 ') && /│ .*cannot start\s+│/.test(x) && x.includes('Enter/Esc dismiss'),
      5000,
      'dialog',
    );
    assert.match(statusLine(dlg), /start vm-0000: .*cannot start/);
    // Keys go to the dialog: p does not pause the VM behind it.
    s.keys('p');
    await new Promise((r) => setTimeout(r, 400));
    assert.match(row(s.capture()), /running/);
    assert.ok(s.capture().includes('Enter/Esc dismiss'), 'still shown');
    s.keys('Escape');
    const after = await s.waitFor((x) => !x.includes('Enter/Esc dismiss'), 5000, 'dismissed');
    assert.not.match(statusLine(after), /cannot start/, 'no stale error in the status line');
    // And the keyboard is back: p pauses.
    s.keys('p');
    await s.waitFor((x) => /paused/.test(row(x)), 5000, 'paused');
  } catch (err) {
    s.saveAll();
    throw err;
  }
});

test.run();
