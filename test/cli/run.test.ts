// The CLI dispatcher with a stub engine: what reaches ssh after `--`, and exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineApi, SshInfo, VmRecord } from '../../app/contract/api.js';
import { sshArgv } from '../../app/contract/ssh-argv.js';
import { cliContext } from '../helpers/builders.js';
import { runCli } from '../../app/cli/run.js';
import { resolve } from 'node:path';
import { buildTree } from '../../app/cli/tree.js';

const ctx = (engine: Partial<EngineApi>, ran: string[][]) =>
  cliContext(engine, ran, {
    paths: { sshKey: '/state/keys/id_ed25519', vmsDir: '/state/vms', runtimeDir: '/run/banger' },
  });

const info: SshInfo = {
  ip: '172.30.0.2',
  user: 'root',
  keyPath: '/k',
  knownHostsPath: '/h',
  argv: ['ssh', '-i', '/k', 'root@172.30.0.2'],
};

const vm = { id: 'a1b2c3d4e5f6a7b8', name: 'dev', state: 'running', ip: '172.30.0.2' } as VmRecord;
const built = sshArgv('172.30.0.2', '/state/keys/id_ed25519', '/state/vms/a1b2c3d4e5f6a7b8/known_hosts');

test('vm ssh NAME -- CMD passes the remote command untouched, even -h and --json', async () => {
  const ran: string[][] = [];
  const c = ctx({ sshInfo: async () => info, getVm: async () => vm }, ran);
  assert.is(await runCli(['vm', 'ssh', 'dev', '--', 'ls', '-h', '--json'], c), 0);
  assert.equal(ran, [[...built, 'ls', '-h', '--json']]);
  assert.equal(c.outs, [], 'no usage text');
});

test("vm ssh runs the client's own argv from the VM record, never the one the engine sends", async () => {
  const ran: string[][] = [];
  const evil: SshInfo = { ...info, argv: ['sh', '-c', 'touch /tmp/pwned'] };
  const c = ctx({ sshInfo: async () => evil, getVm: async () => vm }, ran);
  assert.is(await runCli(['vm', 'ssh', 'dev'], c), 0);
  assert.equal(ran, [built]);
  assert.is(built[0], 'ssh');
  assert.ok(built.includes('/state/keys/id_ed25519'), "banger's key");
  assert.ok(built.includes('UserKnownHostsFile=/state/vms/a1b2c3d4e5f6a7b8/known_hosts'), 'per-VM known_hosts');
  // A record that is not a plain IPv4 address or hex id is refused, nothing runs.
  for (const bad of [{ ip: '-oProxyCommand=x' }, { ip: '172.30.0.2 -v' }, { id: '../../etc' }]) {
    const c2 = ctx({ sshInfo: async () => evil, getVm: async () => ({ ...vm, ...bad }) as VmRecord }, ran);
    assert.is(await runCli(['vm', 'ssh', 'dev'], c2), 1, JSON.stringify(bad));
    assert.match(c2.errs.join('\n'), /E_INVALID_ARGUMENT/);
  }
  assert.is(ran.length, 1);
});

test('vm ssh -h before -- is help, not ssh', async () => {
  const ran: string[][] = [];
  const c = ctx({ sshInfo: async () => info, getVm: async () => vm }, ran);
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

test('vm create takes the name as NAME or --name NAME, not two different ones', async () => {
  const made: unknown[] = [];
  const engine = {
    createVm: async (i: { name: string; vcpus?: number; stopTimeoutMs?: number }) => {
      made.push(i.name);
      if (i.name === 'web') assert.equal([i.vcpus, i.stopTimeoutMs], [2, 5000]);
      return { name: i.name, state: 'created', backend: 'firecracker', vcpus: 1, memoryMib: 256 };
    },
  } as unknown as Partial<EngineApi>;
  const c = ctx(engine, []);
  assert.is(
    await runCli(['vm', 'create', '--name', 'web', '--vcpus', '2', '--stop-timeout', '5'], c),
    0,
    c.errs.join(),
  );
  assert.is(await runCli(['vm', 'create', 'db'], c), 0);
  assert.is(await runCli(['vm', 'create', 'same', '--name', 'same'], c), 0);
  assert.equal(made, ['web', 'db', 'same']);
  assert.is(await runCli(['vm', 'create', 'a', '--name', 'b'], c), 1);
  assert.is(await runCli(['vm', 'create'], c), 1);
  assert.match(c.errs[0]!, /two names given.*\[E_USAGE\]$/);
  assert.match(c.errs[1]!, /missing arguments.*\[E_USAGE\]$/);
  assert.equal(made, ['web', 'db', 'same'], 'nothing created by the refused ones');
});

test('usage errors: one line, E_USAGE, exit 1, the engine never asked', async () => {
  const c = ctx({}, []);
  const cases: [string[], RegExp][] = [
    [['vm'], /"banger vm" needs a verb: vm create, vm ls/],
    [['vm', 'lss'], /unknown command "vm lss" \(did you mean vm ls\?\)/],
    [['nope'], /unknown command "nope"; see banger --help/],
    [['vm', 'ssh', 'web', 'uname'], /too many arguments; usage: banger vm ssh NAME \[-- CMD\.\.\.\]/],
    [['vm', 'create', 'x', '--image'], /option --image needs a value/],
    [['vm', 'create', 'x', '--image', '--json'], /option --image needs a value/],
    [['vm', 'ls', '--json=yes'], /unknown option --json=yes/],
    [['completion', 'tcsh'], /SHELL must be one of bash, zsh, fish, got "tcsh"/],
  ];
  for (const [argv, want] of cases) {
    c.errs.length = 0;
    assert.is(await runCli(argv, c), 1, argv.join(' '));
    assert.is(c.errs.length, 1);
    assert.match(c.errs[0]!, want);
    assert.match(c.errs[0]!, /^banger: [^\n]*\[E_USAGE\]$/);
  }
  const bad = ctx({}, []);
  assert.is(await runCli(['vm', 'stop', 'web', '--timeout', 'soon'], bad), 1);
  assert.match(bad.errs[0]!, /option --timeout needs a whole number, got "soon" \[E_INVALID_ARGUMENT\]$/);
});

test('--help after a verb that does not exist: unknown command, as without --help', async () => {
  for (const argv of [['vm', 'teleport'], ['nope'], ['image', 'frobnicate']]) {
    const plain = ctx({}, []);
    const code = await runCli(argv, plain);
    const c = ctx({}, []);
    assert.is(await runCli([...argv, '--help'], c), code, `${argv.join(' ')} --help exits as without it`);
    assert.is(code, 1);
    assert.equal(c.outs, [], 'no help page');
    assert.equal(c.errs, plain.errs);
    assert.match(c.errs[0]!, new RegExp(`unknown command "${argv.join(' ')}".*\\[E_USAGE\\]$`));
  }
  // Help of real groups and verbs still works, and `vm help` is help too (not E_INTERNAL).
  for (const argv of [
    ['vm', '--help'],
    ['vm', 'ls', '--help'],
    ['vm', 'help'],
    ['help', 'vm'],
  ]) {
    const c = ctx({}, []);
    assert.is(await runCli(argv, c), 0, argv.join(' '));
    assert.match(c.outs.join('\n'), /usage: banger vm/);
    assert.equal(c.errs, []);
  }
});

/** Every verb of the tree, as its words ("vm stop"). */
function verbs(): string[] {
  const root = buildTree({ ctx: () => null as never, run: async () => {}, write: () => {} }) as unknown as {
    commands: { name(): string; commands: unknown[] }[];
  };
  const walk = (c: { name(): string; commands: unknown[] }, path: string[]): string[][] =>
    c.commands.length ? (c.commands as (typeof c)[]).flatMap((k) => walk(k, [...path, k.name()])) : [path];
  return root.commands.flatMap((c) => walk(c, [c.name()])).map((p) => p.join(' '));
}

test("every verb's --help: a usage line, its flags and an example; banger --help lists them all", async () => {
  const all = verbs();
  assert.ok(all.length >= 28, `${all.length} verbs`);
  const top = ctx({}, []);
  assert.is(await runCli(['--help'], top), 0);
  for (const v of all) {
    const c = ctx({}, []);
    assert.is(await runCli([...v.split(' '), '--help'], c), 0, v);
    const text = c.outs.join('\n');
    assert.match(text, new RegExp(`^usage: banger ${v}\\b`), v);
    assert.match(text, /\noptions:\n(.*\n)* {2}-h, --help /, v);
    assert.match(text, /\nexamples?:\n {2}banger /, v);
    const usage = text.split('\n')[0]!.slice('usage: '.length);
    assert.ok(top.outs.join('\n').includes(`  ${usage}\n`), `banger --help lists ${usage}`);
  }
  const h = ctx({}, []);
  assert.is(await runCli(['help', 'vm', 'stop'], h), 0);
  assert.match(h.outs.join('\n'), /^usage: banger vm stop NAME/);
  assert.match(h.outs.join('\n'), /--timeout SECONDS +how long/);
});

test.run();
