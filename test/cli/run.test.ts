// The CLI dispatcher with a stub engine: what reaches ssh after `--`, and exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineApi, SshInfo } from '../../app/engine/api.js';
import type { CliContext } from '../../app/cli/context.js';
import { runCli } from '../../app/cli/run.js';
import { resolve } from 'node:path';

function ctx(engine: Partial<EngineApi>, ran: string[][]): CliContext & { errs: string[]; outs: string[] } {
  const errs: string[] = [];
  const outs: string[] = [];
  return {
    engine: async () => engine as EngineApi,
    out: (t) => outs.push(t),
    err: (t) => errs.push(t),
    interactive: async (argv) => {
      ran.push(argv);
      return 0;
    },
    zone: 'vm',
    isTTY: false,
    stdin: process.stdin,
    errs,
    outs,
  };
}

const info: SshInfo = {
  ip: '172.30.0.2',
  user: 'root',
  keyPath: '/k',
  knownHostsPath: '/h',
  argv: ['ssh', '-i', '/k', 'root@172.30.0.2'],
};

test('vm ssh NAME -- CMD passes the remote command untouched, even -h and --json', async () => {
  const ran: string[][] = [];
  const c = ctx({ sshInfo: async () => info }, ran);
  assert.is(await runCli(['vm', 'ssh', 'dev', '--', 'ls', '-h', '--json'], c), 0);
  assert.equal(ran, [[...info.argv, 'ls', '-h', '--json']]);
  assert.equal(c.outs, [], 'no usage text');
});

test('vm ssh -h before -- is help, not ssh', async () => {
  const ran: string[][] = [];
  const c = ctx({ sshInfo: async () => info }, ran);
  assert.is(await runCli(['vm', 'ssh', '-h'], c), 0);
  assert.equal(ran, []);
  assert.match(c.outs.join('\n'), /usage: banger vm ssh NAME/);
});

test('image import, kernel add and --initrd send paths resolved against the CLI working directory', async () => {
  const sent: unknown[] = [];
  const c = ctx(
    {
      importImage: async (i) => {
        sent.push(i);
        return { name: i.name, sizeBytes: 1 } as never;
      },
      addKernel: async (i) => {
        sent.push(i);
        return { name: i.name } as never;
      },
      listBuilds: async () => [],
      subscribe: () => () => {},
    } as Partial<EngineApi>,
    [],
  );
  assert.is(await runCli(['image', 'import', 'img', './root.ext4'], c), 0, c.errs.join('\n'));
  assert.is(await runCli(['kernel', 'add', 'k', 'vmlinux', '--initrd', '../initrd.img'], c), 0, c.errs.join('\n'));
  assert.equal(sent, [
    { name: 'img', path: resolve('root.ext4'), size: undefined },
    { name: 'k', path: resolve('vmlinux'), initrd: resolve('..', 'initrd.img') },
  ]);
});

test('engine stop without an engine service is an error, not a silent success', async () => {
  const c = ctx({}, []);
  assert.is(await runCli(['engine', 'stop'], c), 1);
  assert.match(c.errs.join('\n'), /E_NOT_IMPLEMENTED/);
});

test.run();
