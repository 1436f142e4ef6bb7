// The console path end to end: the driver wires the FIFO and log file into the VMM, the
// ConsoleManager tails the log and writes keystrokes, the simulated guest echoes them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRunner } from '../../../app/base/process.js';
import { FirecrackerDriver } from '../../../app/engine/firecracker/driver.js';
import { ConsoleManager } from '../../../app/engine/vm/console.js';
import { boot, makeSpec, simEnv, SIM } from './helpers.js';

test('console bytes reach a subscriber; input written to the FIFO comes back echoed', async () => {
  const runner = createRunner();
  const restore = simEnv({ SIM_CAD_DELAY_MS: '10' });
  const driver = new FirecrackerDriver({ runner, bin: SIM });
  const consoles = new ConsoleManager({ runner, maxBytes: 1 << 20, pollMs: 20 });
  const spec = makeSpec();
  try {
    const { handle } = await boot(driver, spec);
    consoles.attach(spec.vm.id, spec.consoleLog, spec.consoleFifo);
    const got: Buffer[] = [];
    consoles.subscribe(spec.vm.id, (b) => got.push(b));
    const seen = () => Buffer.concat(got).toString() + '';
    const everything = () => consoles.tail(spec.vm.id, spec.consoleLog, 1 << 20);
    const end = Date.now() + 3000;
    while (!(await everything()).toString().includes('root@dev:~# ')) {
      if (Date.now() > end) throw new Error('no prompt: ' + (await everything()).toString());
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match((await everything()).toString(), 'Linux version');
    await consoles.write(spec.vm.id, Buffer.from('echo banger-ok\r'));
    const end2 = Date.now() + 3000;
    while (!seen().includes('banger-ok\r\nroot@dev:~# ')) {
      if (Date.now() > end2) throw new Error('no echo: ' + JSON.stringify(seen()));
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(seen(), 'echo banger-ok\r\nbanger-ok\r\n', 'typed characters echoed, then the command output');
    const exit = await driver.stop(handle, { timeoutMs: 2000 });
    assert.is(exit.how, 'graceful');
    const end3 = Date.now() + 2000;
    while (!seen().includes('reboot: Restarting system')) {
      if (Date.now() > end3) throw new Error('no reboot line');
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    consoles.detach(spec.vm.id);
    restore();
  }
});

test.run();
