// The TUI in a real terminal (tmux), driven by keys like a person. The command under test is
// BANGER_TUI_CMD (default: the fake-engine launcher), so the same steps run against bin/banger.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bindingsFor } from '../../app/screens/keys.js';
import { TmuxSession, tuiCommand } from './tmux.js';

const NAME = `banger-tui-${process.pid}`;
const VM = `tv${process.pid % 10000}`;
let s: TmuxSession;

/** Run a step; on failure keep the captures under test-artifacts/. */
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
  s = TmuxSession.start(NAME, tuiCommand(), { width: 120, height: 35, env: { FAKE_TRANSITION_MS: '300' } });
});
test.after(() => s?.kill());

step('the VM table and chrome appear', async () => {
  const screen = await s.waitFor(
    (x) => x.includes('NAME') && x.includes('STATE') && /\b1 VMs\b/.test(x),
    8000,
    'table',
  );
  assert.match(screen, /\[(embedded|attached)\]/);
  assert.match(screen, /c create .* s start .* x stop/); // footer from the key table
  assert.match(screen.split('\n')[2]!, /NAME\s+STATE\s+IP\s+DNS\s+BACKEND/);
});

step('an invalid name in the create form shows the engine error, no crash', async () => {
  s.keys('c');
  await s.waitFor('create VM', 3000, 'form');
  s.type('Bad_Name');
  s.keys('Enter');
  await s.waitFor(/invalid.*name/i, 3000, 'form-error');
  s.keys('Escape');
  await s.waitFor((x) => !x.includes('create VM'), 3000, 'form-closed');
});

step('create a VM through the form', async () => {
  s.keys('c');
  await s.waitFor('create VM', 3000, 'form');
  s.type(VM);
  s.keys('Tab', 'Tab', 'Tab'); // name -> image -> kernel -> vCPUs
  s.keys('BSpace');
  s.type('2');
  s.keys('Enter');
  const screen = await s.waitFor((x) => /created/.test(tableRow(x, VM) ?? ''), 5000, 'created-row');
  assert.match(tableRow(screen, VM)!, /created\s+-\s+/);
  assert.match(tableRow(screen, VM)!, / 2 /); // vCPUs from the form
});

step('start it: pending state, then running with an IP', async () => {
  s.keys('s');
  const screen = await s.waitFor((x) => /running\s+\d+\.\d+\.\d+\.\d+/.test(tableRow(x, VM) ?? ''), 15000, 'running');
  assert.match(tableRow(screen, VM)!, new RegExp(`${VM}\\.vm`));
});

step('p pauses and p again resumes; z takes a snapshot', async () => {
  s.keys('p');
  await s.waitFor((x) => /paused/.test(tableRow(x, VM) ?? ''), 8000, 'paused');
  s.keys('p');
  await s.waitFor((x) => /running/.test(tableRow(x, VM) ?? ''), 8000, 'resumed');
  s.keys('z');
  await s.waitFor(new RegExp(`snapshot ${VM}: done`), 8000, 'snapshot');
});

step('the console shows boot output and a typed line comes back', async () => {
  s.keys('o');
  await s.waitFor((x) => x.includes(`Console ${VM}`) && /login|Linux|#/.test(x), 15000, 'console');
  s.keys('i');
  await s.waitFor('INPUT', 3000, 'input-mode');
  s.type('echo banger-echo-4242');
  s.keys('Enter');
  // The echoed command line and the output line.
  const screen = await s.waitFor((x) => x.split('\n').some((l) => /^│banger-echo-4242\s*│$/.test(l)), 8000, 'echo');
  assert.ok(screen.includes('echo banger-echo-4242'));
  s.keys('C-]');
  await s.waitFor((x) => !x.includes('INPUT'), 3000, 'input-left');
  s.keys('Escape');
  await s.waitFor((x) => tableRow(x, VM) !== undefined, 3000, 'back-to-vms');
});

step('? shows help generated from the key table', async () => {
  s.keys('?');
  const labels = bindingsFor('vms')
    .filter((x) => x.footer)
    .map((b) => b.label);
  // Wait for the whole overlay: a capture can land mid-draw, with the last lines not yet there.
  const screen = await s.waitFor((x) => x.includes('Keys on VMs') && labels.every((l) => x.includes(l)), 5000, 'help');
  for (const l of labels) assert.ok(screen.includes(l), `help lists ${l}`);
  assert.ok(screen.includes(':metrics'));
  s.keys('Escape');
  await s.waitFor((x) => !x.includes('Keys on VMs'), 3000, 'help-closed');
});

step('stop it', async () => {
  s.keys('x');
  await s.waitFor((x) => /stopped/.test(tableRow(x, VM) ?? ''), 15000, 'stopped');
});

step('delete asks first; n keeps it, y removes it', async () => {
  s.keys('d');
  await s.waitFor(`Delete VM ${VM}`, 3000, 'confirm');
  s.keys('n');
  let screen = await s.waitFor((x) => !x.includes(`Delete VM ${VM}`), 3000, 'confirm-no');
  assert.ok(tableRow(screen, VM), 'still listed after "n"');
  s.keys('d');
  await s.waitFor(`Delete VM ${VM}`, 3000, 'confirm-again');
  s.keys('y');
  screen = await s.waitFor((x) => tableRow(x, VM) === undefined && !x.includes('Delete VM'), 8000, 'deleted');
  assert.ok(!tableRow(screen, VM));
});

step('a resize to 80x24 redraws to fit', async () => {
  const before = s.capture();
  assert.match(before.split('\n')[2]!, /\bDNS\b/);
  s.resize(80, 24);
  const screen = await s.waitFor(
    (x) => {
      const lines = x.split('\n');
      return lines.length >= 24 && /^NAME\s+STATE/.test(lines[2] ?? '') && !/\bDNS\b/.test(lines[2] ?? '');
    },
    5000,
    'resized',
  );
  const lines = screen.replace(/\n+$/, '').split('\n');
  assert.ok(
    lines.every((l) => l.length <= 80),
    'no line wider than 80',
  );
  assert.match(lines[lines.length - 1]!, /create/); // footer on the last row
});

step(':q quits and gives the terminal back', async () => {
  s.keys(':');
  s.type('q');
  s.keys('Enter');
  const screen = await s.waitFor(/\[exited 0\]/, 8000, 'exited');
  assert.not.match(screen, /1 VMs\s+2 Console/); // the alternate screen is gone
});

test.run();
