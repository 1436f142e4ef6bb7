// Quitting with VMs running in embedded mode asks what to do; the answer reaches onQuit.
// Also runs on an 8-colour TERM, and through ssh suspend/restore.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmuxSession, tuiCommand } from './tmux.js';

const VM = `q${process.pid % 10000}`;
let s: TmuxSession;
const row = (x: string) => x.split('\n').find((l) => l.startsWith(`${VM} `)) ?? '';

test.before(() => {
  s = TmuxSession.start(`banger-tui-quit-${process.pid}`, tuiCommand(), {
    width: 100,
    height: 30,
    env: { TERM: 'xterm', FAKE_TRANSITION_MS: '100' },
  });
});
test.after(() => s?.kill());

test('8-colour terminal, ssh hand-over, and the quit question', async () => {
  try {
    await s.waitFor('NAME', 8000, 'table');
    s.keys('c');
    await s.waitFor('create VM', 3000, 'form');
    s.type(VM);
    s.keys('Enter');
    await s.waitFor((x) => row(x).includes('created'), 5000, 'created');
    s.keys('s');
    await s.waitFor((x) => row(x).includes('running'), 8000, 'running');
    s.keys('S');
    await s.waitFor(`fake ssh session into ${VM}`, 5000, 'ssh-session');
    s.keys('Enter');
    await s.waitFor(`ssh ${VM} exited 0`, 5000, 'ssh-returned');
    assert.ok(s.capture().includes('NAME'), 'TUI redrawn after ssh');
    s.keys('q');
    await s.waitFor('leave the engine and VMs running', 3000, 'quit-question');
    s.keys('Escape');
    await s.waitFor((x) => !x.includes('leave the engine') && row(x).includes('running'), 3000, 'quit-cancelled');
    s.keys('q');
    await s.waitFor('leave the engine and VMs running', 3000, 'quit-question-2');
    s.keys('l');
    const screen = await s.waitFor(/\[exited 0\]/, 8000, 'exited');
    assert.match(screen, /shutdown stopVms=false/);
  } catch (err) {
    s.saveAll();
    throw err;
  }
});

test.run();
