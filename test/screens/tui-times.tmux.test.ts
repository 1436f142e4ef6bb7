// Times in the TUI as people read them (issue 25 #5): the detail pane says "just now" / "N min
// ago", never a raw ISO time, and Enter shows the full local time beside it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmuxSession, tuiCommand } from './tmux.js';

let s: TmuxSession;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d/;

test.before(() => {
  s = TmuxSession.start(`banger-tui-times-${process.pid}`, tuiCommand(), {
    width: 120,
    height: 35,
    env: { FAKE_TRANSITION_MS: '100', FAKE_VMS: '1' },
  });
});
test.after(() => s?.kill());

test('the detail pane says how long ago; Enter adds the full local time', async () => {
  try {
    const pane = await s.waitFor((x) => /created\s+just now/.test(x), 8000, 'pane');
    assert.match(pane, /started\s+just now/);
    assert.not.match(pane, ISO, 'no raw ISO time on screen');
    s.keys('Enter');
    const overlay = await s.waitFor('VM vm-0000', 5000, 'details');
    const d = new Date();
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    assert.match(overlay, new RegExp(`created\\s+just now \\(${day} \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d\\)`));
    assert.not.match(overlay, ISO);
    s.keys('Escape');
    await s.waitFor((x) => !x.includes('VM vm-0000'), 5000, 'closed');
  } catch (err) {
    s.saveAll();
    throw err;
  }
});

test.run();
