// The snapshot list and the suspend key in a real terminal (tmux) over the fake engine: n lists
// the selected VM's snapshots (name, size, age), d and r each ask before deleting or restoring
// (as `vm snapshot rm` and `vm restore` do), Esc closes, and X suspends (the row says so).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmuxSession } from './tmux.js';

const NAME = `banger-tui-snaps-${process.pid}`;
const VM = 'vm-0000';
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

const tableRow = (screen: string, name: string): string | undefined =>
  screen.split('\n').find((l) => l.startsWith(`${name} `));

test.before(() => {
  s = TmuxSession.start(NAME, 'node --import tsx test/screens/fixtures/run-fake-tui.ts', {
    width: 120,
    height: 35,
    env: { FAKE_TRANSITION_MS: '100', FAKE_VMS: '1' },
  });
});
test.after(() => s?.kill());

step('two snapshots taken with z', async () => {
  await s.waitFor((x) => /running/.test(tableRow(x, VM) ?? ''), 8000, 'table');
  await s.waitFor(/n snapshots/, 3000, 'footer');
  s.keys('z');
  await s.waitFor(`snapshot ${VM}: done`, 5000, 'snap-1');
  s.keys('z');
  await s.waitFor(
    (x) => (x.match(/snapshot vm-0000: done/g) ?? []).length >= 1 && !/snapshotting/.test(x),
    5000,
    'snap-2',
  );
});

step('n lists them with size and age', async () => {
  s.keys('n');
  const screen = await s.waitFor(/snapshots of vm-0000[\s\S]*snap-2/, 5000, 'list');
  assert.match(screen, /NAME\s+SIZE\s+AGE/);
  assert.match(screen, /snap-1\s+128M\s+(just now|\d+ s ago)/);
  assert.match(screen, /r restore\s+d delete\s+Esc close/);
});

step('d asks, and yes deletes: the row goes', async () => {
  s.keys('j', 'd');
  await s.waitFor('Delete snapshot snap-2 of vm-0000?', 3000, 'confirm-delete');
  s.keys('y');
  const screen = await s.waitFor((x) => /snapshots of vm-0000/.test(x) && !/│ snap-2\s/.test(x), 5000, 'deleted');
  assert.match(screen, /│ snap-1\s/, 'the other one stays');
});

step('r asks, no keeps it; yes restores', async () => {
  s.keys('r');
  await s.waitFor('Put vm-0000 back to snapshot snap-1?', 3000, 'confirm-restore');
  s.keys('n');
  await s.waitFor((x) => !/Put vm-0000 back/.test(x) && /snapshots of vm-0000/.test(x), 3000, 'declined');
  s.keys('Enter');
  await s.waitFor('Put vm-0000 back to snapshot snap-1?', 3000, 'confirm-restore-2');
  s.keys('y');
  await s.waitFor('restore snap-1 of vm-0000: done', 5000, 'restored');
});

step('Esc closes the list; X suspends the VM', async () => {
  s.keys('Escape');
  await s.waitFor((x) => !/snapshots of vm-0000/.test(x), 3000, 'closed');
  s.keys('X');
  const screen = await s.waitFor((x) => /suspended/.test(tableRow(x, VM) ?? ''), 5000, 'suspended');
  assert.match(screen, /saved state/, 'the details say what was saved');
});

test.run();
