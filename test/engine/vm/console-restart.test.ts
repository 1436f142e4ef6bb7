// A console subscriber outlives the boot it subscribed to: after restart (or stop + start)
// the new boot's bytes reach the same subscriber, through the real engine and the simulator.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simEngine, waitFor, type TestEngine } from '../../helpers/engine.js';

let te: TestEngine;
test.before.each(async () => {
  te = await simEngine({ config: { consoleLogMaxBytes: 0 } as never });
});
test.after.each(async () => {
  await te.close();
});

/** Text received after the first occurrence of `mark` (the next boot must come after it). */
const after = (s: string, mark: string) => (s.includes(mark) ? s.slice(s.indexOf(mark) + mark.length) : '');

test("a subscriber made before a restart gets the new boot's bytes", async () => {
  const e = te.engine;
  await e.createVm({ name: 'web' });
  await e.startVm('web');
  const got: Buffer[] = [];
  const text = () => Buffer.concat(got).toString();
  const off = await e.subscribeConsole('web', (b) => got.push(b));
  // The first boot's banner is already in the log; type something to prove the live feed.
  await e.sendConsole('web', 'echo one\r');
  await waitFor(() => text().includes('one'), 'echo from the first boot');
  await e.restartVm('web');
  await waitFor(
    () => after(text(), 'reboot: Restarting system').includes('Welcome to banger'),
    'the new boot banner',
    5000,
  );
  // And the new boot's console is live for this subscriber too.
  await e.sendConsole('web', 'echo two\r');
  await waitFor(() => text().includes('two'), 'echo from the second boot');
  off();
  const n = got.length;
  await e.sendConsole('web', 'echo three\r');
  await new Promise((r) => setTimeout(r, 400));
  assert.is(got.length, n, 'unsubscribed: nothing more');
});

test('stop then start: the same subscriber sees the next boot; the shutdown lines too', async () => {
  const e = te.engine;
  await e.createVm({ name: 'db' });
  await e.startVm('db');
  const got: Buffer[] = [];
  const text = () => Buffer.concat(got).toString();
  const off = await e.subscribeConsole('db', (b) => got.push(b));
  await e.stopVm('db');
  // The last bytes before the VMM exited are delivered, not dropped with the tail.
  await waitFor(() => text().includes('reboot: Restarting system'), 'shutdown lines');
  // A stopped VM takes no new subscription, but the existing one stays registered.
  const err = await e.subscribeConsole('db', () => {}).catch((x) => x);
  assert.is(err.code, 'E_INVALID_STATE');
  await e.startVm('db');
  await waitFor(() => after(text(), 'reboot: Restarting system').includes('Linux version'), 'the second boot banner');
  off();
});

test.run();
