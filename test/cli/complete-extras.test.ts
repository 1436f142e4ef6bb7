// Completion of what a developer brings into a VM: the vm mount and vm port verbs, the create
// flags (--mount: directories only; --user-data, --ssh-key: files; --publish, --run), the
// repeatable ones offered again, and `vm mount rm NAME` / `vm port rm NAME` offering that VM's
// own guest dirs and published ports from a running engine (a fake one on the real socket).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { complete, DIRS, type Source } from '../../app/cli/complete.js';
import { engineSource } from '../../app/cli/complete-engine.js';
import type { VmRecord } from '../../app/contract/api.js';
import { startServer, type Running } from '../control/helpers.js';
import { FakeEngine } from '../helpers/fake-engine.js';

const values = async (words: string[], src: Source | null = null) =>
  (await complete(words, src)).candidates.map((c) => c.value);

test('the verbs: vm mount and vm port, each with add, rm and ls', async () => {
  assert.ok((await values(['vm', ''])).includes('mount'));
  assert.ok((await values(['vm', ''])).includes('port'));
  assert.equal(await values(['vm', 'mount', '']), ['add', 'rm', 'ls']);
  assert.equal(await values(['vm', 'port', '']), ['add', 'rm', 'ls']);
});

test('create flags: --mount takes directories, --user-data and --ssh-key files', async () => {
  const flags = await values(['vm', 'create', 'web', '--']);
  for (const f of ['--mount', '--publish', '--user-data', '--ssh-key', '--run']) assert.ok(flags.includes(f), f);
  assert.equal(await complete(['vm', 'create', 'web', '--mount', ''], null), { candidates: [], directive: DIRS });
  assert.equal(await complete(['vm', 'create', 'web', '--mount=./s'], null), { candidates: [], directive: DIRS });
  assert.equal(await complete(['vm', 'mount', 'add', 'web', ''], null), { candidates: [], directive: DIRS });
  assert.is((await complete(['vm', 'create', 'web', '--user-data', ''], null)).directive, 0, 'file names');
  assert.is((await complete(['vm', 'create', 'web', '--ssh-key', ''], null)).directive, 0, 'file names');
  assert.equal(await values(['vm', 'create', 'web', '--publish', '']), [], 'a port spec: nothing to offer');
});

test('repeatable flags are offered again; --run and --user-data once', async () => {
  const after = await values([
    'vm',
    'create',
    'web',
    '--mount',
    '/a',
    '--publish',
    '80:80',
    '--ssh-key',
    'k',
    '--run',
    '--user-data',
    'u',
    '--',
  ]);
  for (const f of ['--mount', '--publish', '--ssh-key']) assert.ok(after.includes(f), `${f} again`);
  for (const f of ['--run', '--user-data']) assert.not.ok(after.includes(f), `${f} not again`);
});

class ExtrasEngine extends FakeEngine {
  override async listVms(): Promise<VmRecord[]> {
    return [
      {
        name: 'web',
        state: 'stopped',
        mounts: [
          { hostDir: '/home/me/src', guestDir: '/src', readOnly: false, tag: 'm0' },
          { hostDir: '/home/me/data', guestDir: '/data', readOnly: true, tag: 'm1' },
        ],
        ports: [
          { addr: '127.0.0.1', hostPort: 8080, guestPort: 80, proto: 'tcp' },
          { addr: '0.0.0.0', hostPort: 5353, guestPort: 53, proto: 'udp' },
        ],
      },
      { name: 'db', state: 'running' },
    ] as VmRecord[];
  }
}

let srv: Running;
test.before(async () => {
  srv = await startServer({ engine: new ExtrasEngine({ transitionMs: 0 }) });
});
test.after(async () => {
  await srv.stop();
});

async function live(words: string[]) {
  const { src, close } = engineSource(srv.socketPath, 5000);
  try {
    return await complete(words, src);
  } finally {
    close();
  }
}

test("vm mount rm NAME: that VM's guest dirs; vm port rm NAME: its published ports", async () => {
  const m = await live(['vm', 'mount', 'rm', 'web', '']);
  assert.equal(m.candidates, [
    { value: '/src', description: 'from /home/me/src' },
    { value: '/data', description: 'from /home/me/data (ro)' },
  ]);
  assert.is(m.directive, 4);
  assert.equal(
    (await live(['vm', 'mount', 'rm', 'web', '/d'])).candidates.map((c) => c.value),
    ['/data'],
  );
  const p = await live(['vm', 'port', 'rm', 'web', '']);
  assert.equal(p.candidates, [
    { value: '127.0.0.1:8080/tcp', description: 'to guest port 80/tcp' },
    { value: '0.0.0.0:5353/udp', description: 'to guest port 53/udp' },
  ]);
  assert.equal((await live(['vm', 'mount', 'rm', 'db', ''])).candidates, [], 'a VM without mounts');
  assert.equal((await live(['vm', 'port', 'rm', 'nope', ''])).candidates, [], 'no such VM');
  assert.equal(
    (await live(['vm', 'mount', 'rm', '']))?.candidates.map((c) => c.value),
    ['web'],
    'the stopped VMs first',
  );
});

test.run();
