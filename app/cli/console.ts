// banger vm console NAME: the console log so far, then live bytes; keystrokes go to the guest
// in raw mode. Ctrl-] (0x1d, as in telnet) leaves.
import type { EngineApi } from '../contract/api.js';
import type { CliContext } from './context.js';

const ESCAPE = 0x1d;

export async function attachConsole(ctx: CliContext, engine: EngineApi, name: string): Promise<number> {
  const vm = await engine.getVm(name);
  ctx.err(`[console of ${vm.name}: ${vm.state}; Ctrl-] to leave]`);
  process.stdout.write(await engine.consoleTail(name, 16 * 1024));
  const unsub = await engine.subscribeConsole(name, (b) => process.stdout.write(b));
  const stdin = ctx.stdin;
  return new Promise<number>((resolve) => {
    const done = (code: number) => {
      unsub();
      offVm();
      stdin.off('data', onKey);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      ctx.err('\r\n[console detached]');
      resolve(code);
    };
    const onKey = (chunk: Buffer) => {
      const i = chunk.indexOf(ESCAPE);
      if (i >= 0) {
        if (i > 0) void engine.sendConsole(name, chunk.subarray(0, i)).catch(() => {});
        return done(0);
      }
      engine.sendConsole(name, chunk).catch((err) => ctx.err(`\r\n[${(err as Error).message}]`));
    };
    const offVm = engine.subscribe((e) => {
      if (e.type === 'vm' && e.vm.id === vm.id && (e.vm.state === 'stopped' || e.vm.state === 'error')) done(0);
      if (e.type === 'vm-removed' && e.id === vm.id) done(0);
    });
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
    stdin.once('end', () => done(0));
  });
}
