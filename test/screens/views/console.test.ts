// The console screen over the real in-process engine (Firecracker simulator) and a headless
// terminal: opening the console of a stopped VM, then starting it, shows the new boot; a
// restart while the console is open shows the next boot too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Writable } from 'node:stream';
import { runTui, type TuiInternals } from '../../../app/screens/tui.js';
import { simEngine, waitFor, type TestEngine } from '../../helpers/engine.js';

process.env.TERM = 'xterm-256color';

function fakeTty(cols: number, rows: number) {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(
    new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
    { isTTY: true, columns: cols, rows },
  );
  return { input, output };
}

let te: TestEngine;
let handle: TuiInternals;
test.before.each(async () => {
  te = await simEngine();
  const tty = fakeTty(120, 40);
  handle = await runTui(te.engine, { mode: 'embedded', onQuit: async () => {}, input: tty.input, output: tty.output });
});
test.after.each(async () => {
  handle?.destroy();
  await te.close();
});

const view = () => handle.app.consoleView;
const openConsole = (name: string) => {
  handle.app.selectedVm = name;
  handle.app.switchTo('console');
};

test('console of a stopped VM, then start it: the boot output appears (no blank console)', async () => {
  await te.engine.createVm({ name: 'cold' });
  await te.engine.startVm('cold');
  await te.engine.stopVm('cold');
  openConsole('cold');
  // Stopped: the last boot's log is shown read-only, no error dialog.
  await waitFor(() => view().text().includes('reboot: Restarting system'), "the previous boot's log");
  assert.not.ok(handle.app.modalOpen, 'no error dialog for a stopped VM');
  const before = view().text().split('Linux version').length;
  await te.engine.startVm('cold');
  await waitFor(
    () => view().text().split('Linux version').length > before && view().text().includes('Welcome to banger'),
    'the new boot in the console',
    5000,
  );
  // And the console is live: a typed line comes back.
  await view().send('echo hot\r');
  await waitFor(() => /\bhot\b[\s\S]*\bhot\b/.test(view().text()), 'the echo');
});

test('console of a never-started VM, then start it: the boot output appears', async () => {
  await te.engine.createVm({ name: 'fresh' });
  openConsole('fresh');
  await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(view().text().includes('Linux version'));
  assert.not.ok(handle.app.modalOpen, 'no error dialog for a stopped VM');
  await te.engine.startVm('fresh');
  await waitFor(() => view().text().includes('Welcome to banger'), 'the boot in the console', 5000);
});

test('restart while the console is open: the next boot shows', async () => {
  await te.engine.createVm({ name: 'web' });
  await te.engine.startVm('web');
  openConsole('web');
  await waitFor(() => view().text().includes('Welcome to banger'), 'first boot');
  await te.engine.restartVm('web');
  await waitFor(
    () => /Restarting system[\s\S]*Welcome to banger/.test(view().text()),
    'the next boot after the shutdown lines',
    5000,
  );
});

test('the engine refuses the first subscribe although the data says running: the console goes live anyway', async () => {
  // The race behind a flake: the TUI's data said running (a start raced the open, or a stop and
  // a start arrived as one update) while the engine had no console attached yet.
  await te.engine.createVm({ name: 'racy' });
  await te.engine.startVm('racy');
  await waitFor(() => handle.app.data.vmByName('racy')?.state === 'running', 'the data says running');
  const real = te.engine.subscribeConsole.bind(te.engine);
  let refused = 0;
  te.engine.subscribeConsole = async (name, onData) => {
    if (refused++ === 0)
      throw Object.assign(new Error('console is not attached: the VM is not running'), { code: 'E_INVALID_STATE' });
    return real(name, onData);
  };
  openConsole('racy');
  await waitFor(() => view().text().includes('Welcome to banger'), 'the log, read-only at first');
  await view().send('echo live\r');
  await waitFor(() => /\blive\b[\s\S]*\blive\b/.test(view().text()), 'the echo: attached for real', 5000);
  assert.ok(refused >= 2, `subscribed again after the refusal (${refused})`);
});

test('bytes that arrive while the tail is being parsed are shown, not dropped', async () => {
  // The flake behind "console of a stopped VM, then start it": the boot banner arriving while
  // the tail was written to the terminal went to a buffer already read, and never showed.
  await te.engine.createVm({ name: 'late' });
  await te.engine.startVm('late');
  await waitFor(() => handle.app.data.vmByName('late')?.state === 'running', 'the data says running');
  const subscribe = te.engine.subscribeConsole.bind(te.engine);
  const tail = te.engine.consoleTail.bind(te.engine);
  let deliver: ((d: Buffer) => void) | null = null;
  te.engine.subscribeConsole = async (name, onData) => {
    deliver = onData;
    return subscribe(name, onData);
  };
  te.engine.consoleTail = async (name, max) => {
    const t = await tail(name, max);
    // After the tail is taken and before xterm has parsed it (its parse runs on a timer too).
    setTimeout(() => deliver?.(Buffer.from('LATE-BYTES-1234\r\n')), 0);
    return t;
  };
  openConsole('late');
  await waitFor(() => view().text().includes('LATE-BYTES-1234'), 'the bytes that came during the parse', 3000);
});

test.run();
