// S (ssh) hands the terminal over for real (tmux): the TUI leaves its alternate screen and
// clears, so during the session the terminal shows the shell alone and none of the table;
// when the shell ends the TUI draws itself again and says how ssh exited.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmuxSession, tuiCommand } from './tmux.js';

let s: TmuxSession;

function step(title: string, fn: () => Promise<void>): void {
  test(title, async () => {
    try {
      await fn();
    } catch (err) {
      s?.saveAll();
      throw err;
    }
  });
}

test.before(() => {
  s = TmuxSession.start(`banger-ssh-${process.pid}`, tuiCommand(), {
    width: 120,
    height: 35,
    env: { FAKE_VMS: '3' },
  });
});
test.after(() => s?.kill());

step('S shows the shell and nothing of the TUI', async () => {
  await s.waitFor((x) => x.includes('vm-0000') && x.includes('VMs (3)'), 8000, 'table');
  s.keys('S');
  const screen = await s.waitFor(/fake ssh session into vm-0000/, 8000, 'shell');
  for (const tuiText of ['NAME', 'STATE', 'banger', 'vm-0001', 'VMs (3)', '1 VMs', 'quit'])
    assert.not.ok(screen.includes(tuiText), `the TUI's "${tuiText}" is not on the screen during ssh:\n${screen}`);
  // The shell owns the keyboard: what is typed reaches it, not the TUI.
  s.type('q');
  await s.waitFor(/fake ssh session into vm-0000[\s\S]*q/, 5000, 'typed');
  assert.not.match(s.capture(), /\[exited/);
});

step('when the shell ends the TUI comes back whole', async () => {
  s.keys('Enter');
  const screen = await s.waitFor((x) => x.includes('VMs (3)') && x.includes('ssh vm-0000 exited 0'), 8000, 'back');
  assert.not.match(screen, /fake ssh session/, 'the TUI redrew every cell');
  assert.match(screen, /NAME\s+STATE/);
  // Keys work again.
  s.keys('j');
  await s.waitFor((x) => /vm-0001/.test(x), 3000, 'keys');
});

test.run();
