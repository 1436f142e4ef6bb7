// `banger __complete`: verbs and flags from the command tree; VM, image, kernel and backend
// names from an engine answering on the real control socket (a fake engine behind the real
// server); nothing from an engine that is absent or silent, and never an engine started.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { complete, render, type Source } from '../../app/cli/complete.js';
import { BUDGET_MS, budgetMs, engineSource } from '../../app/cli/complete-engine.js';
import type { VmRecord } from '../../app/contract/api.js';
import { startServer, tempDir, type Running } from '../control/helpers.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { cli } from '../helpers/cli.js';

const values = async (words: string[], src: Source | null = null) =>
  (await complete(words, src)).candidates.map((c) => c.value);

test('verbs: top level, a group, by prefix', async () => {
  const top = await values(['']);
  for (const v of ['vm', 'image', 'kernel', 'dns', 'engine', 'status', 'doctor', 'completion'])
    assert.ok(top.includes(v), v);
  assert.not.ok(top.includes('__complete'), 'hidden');
  assert.equal(await values(['vm', 'st']), ['start', 'stop', 'stats']);
  assert.equal(await values(['kernel', '']), ['add', 'fetch', 'build', 'ls', 'rm']);
  assert.equal(await values(['help', 'vm', 'sh']), ['show'], 'banger help VERB');
  const c = await complete(['vm', ''], null);
  assert.is(c.directive, 4, 'no file names where a verb goes');
  assert.ok(c.candidates.find((x) => x.value === 'create')!.description!.startsWith('create a VM'));
});

test('flags: of the verb, used ones left out, values skipped over', async () => {
  assert.equal(await values(['vm', 'stop', 'web', '-']), ['--force', '--save', '--timeout', '--json', '--help']);
  // --force and --save exclude each other: one used, the other is not offered.
  assert.equal(await values(['vm', 'stop', 'web', '--force', '--']), ['--timeout', '--json', '--help']);
  assert.equal(await values(['vm', 'stop', 'web', '--save', '-']), ['--timeout', '--json', '--help']);
  assert.equal(await values(['vm', 'stop', '-f', 'web', '--']), ['--timeout', '--json', '--help']);
  assert.equal(await values(['vm', 'create', 'web', '--image', 'x', '--ba']), ['--backend']);
  assert.equal(await values(['--d']), ['--detach'], 'the top level offers --detach (main.ts handles it)');
  assert.equal(await values(['-']), ['--help', '--detach', '--version']);
});

test('static values: --from sources, completion shells, backends without an engine', async () => {
  assert.equal(await values(['image', 'build', 'x', '--from', '']), ['busybox', 'debian:bookworm']);
  assert.equal(await values(['image', 'build', 'x', '--from=deb']), ['--from=debian:bookworm']);
  assert.equal(await values(['completion', '']), ['bash', 'zsh', 'fish']);
  assert.equal(await values(['vm', 'create', 'x', '--backend', '']), ['firecracker', 'qemu']);
  assert.equal(await values(['completion', 'bash', '']), [], 'no second argument');
});

test('file arguments fall back to file names; a remote command gets nothing', async () => {
  // image import's REF: the transports, and file names once the word is not one of them.
  const ref = await complete(['image', 'import', 'alpine', ''], null);
  assert.equal(
    ref.candidates.map((c) => c.value),
    ['docker://', 'oci:', 'oci-archive:', 'docker-archive:'],
  );
  assert.is(ref.directive, 0);
  assert.equal(
    (await complete(['image', 'import', 'alpine', 'oci'], null)).candidates.map((c) => c.value),
    ['oci:', 'oci-archive:'],
  );
  assert.equal(await complete(['image', 'import', 'alpine', './'], null), { candidates: [], directive: 0 });
  assert.equal(
    (await complete(['image', 'import', 'a', 'oci:x', '--tls-verify', ''], null)).candidates.map((c) => c.value),
    ['true', 'false'],
  );
  assert.is((await complete(['kernel', 'add', 'k', './vmlinux', '--initrd', ''], null)).directive, 0);
  assert.equal(await complete(['vm', 'ssh', 'web', '--', ''], null), { candidates: [], directive: 4 });
  assert.is((await complete(['image', 'build', ''], null)).directive, 4, 'a new name: no suggestions, no files');
});

test('render: value<TAB>description lines, then :directive', () => {
  assert.is(
    render({ candidates: [{ value: 'a', description: 'x\ny' }, { value: 'b' }], directive: 4 }),
    'a\tx y\nb\n:4',
  );
});

function vmRec(name: string, state: VmRecord['state']): VmRecord {
  return { name, state, id: `id-${name}` } as VmRecord;
}

class NamesEngine extends FakeEngine {
  override async listVms(): Promise<VmRecord[]> {
    return [vmRec('api', 'running'), vmRec('db', 'stopped'), vmRec('fresh', 'created'), vmRec('boot', 'starting')];
  }
  override async listImages() {
    return [{ name: 'default' }, { name: 'debian' }] as never;
  }
  override async listKernels() {
    return [{ name: 'default' }, { name: 'qemu-k' }] as never;
  }
  override async status() {
    const s = await super.status();
    return { ...s, backends: s.backends.map((b) => ({ ...b, available: b.name === 'firecracker' })) };
  }
}

let srv: Running;
test.before(async () => {
  srv = await startServer({ engine: new NamesEngine({ transitionMs: 0 }) });
});
test.after(async () => {
  await srv.stop();
});

async function live(words: string[]): Promise<string[]> {
  const { src, close } = engineSource(srv.socketPath, 5000); // slack for a loaded host
  try {
    return await values(words, src);
  } finally {
    close();
  }
}

test('VM names from a running engine, state-aware for start and stop', async () => {
  assert.equal(await live(['vm', 'show', '']), ['api', 'db', 'fresh', 'boot']);
  assert.equal(await live(['vm', 'start', '']), ['db', 'fresh'], 'start: the VMs that are not running');
  assert.equal(await live(['vm', 'stop', '']), ['api', 'boot'], 'stop: the running ones');
  assert.equal(await live(['vm', 'ssh', '']), ['api', 'boot']);
  for (const v of ['restart', 'console', 'logs', 'rm', 'stats']) assert.equal(await live(['vm', v, 'd']), ['db'], v);
  assert.equal(await live(['vm', 'stop', '--force', '']), ['api', 'boot'], 'after a flag');
  assert.equal(await live(['vm', 'stop', 'api', '']), [], 'one name only');
});

test('image, kernel and backend names from a running engine', async () => {
  assert.equal(await live(['vm', 'create', 'x', '--image', '']), ['default', 'debian']);
  assert.equal(await live(['vm', 'create', 'x', '--kernel', 'q']), ['qemu-k']);
  assert.equal(await live(['vm', 'create', 'x', '--image=de']), ['--image=default', '--image=debian']);
  assert.equal(await live(['vm', 'create', 'x', '--backend', '']), ['firecracker'], 'the available ones');
  assert.equal(await live(['image', 'rm', '']), ['default', 'debian']);
  assert.equal(await live(['kernel', 'rm', '']), ['default', 'qemu-k']);
});

test('a silent engine: no names, given up on within the budget', async () => {
  const { dir, cleanup } = tempDir();
  const sock = join(dir, 'silent.sock');
  const accepted: unknown[] = [];
  const silent: Server = createServer((s) => accepted.push(s)); // accepts, never answers
  await new Promise<void>((r) => silent.listen(sock, r));
  try {
    const t0 = Date.now();
    const { src, close } = engineSource(sock);
    const got = await values(['vm', 'start', ''], src);
    const took = Date.now() - t0;
    close();
    assert.equal(got, []);
    assert.ok(accepted.length >= 1, 'it did ask');
    assert.ok(took >= BUDGET_MS - 20 && took < BUDGET_MS + 1000, `gave up after ${took} ms`);
  } finally {
    for (const s of accepted) (s as { destroy(): void }).destroy();
    silent.close();
    cleanup();
  }
});

test('the budget: 200 ms by default, BANGER_COMPLETION_TIMEOUT_MS for a slow host', () => {
  assert.is(budgetMs({}), 200);
  assert.is(budgetMs({ BANGER_COMPLETION_TIMEOUT_MS: '1500' }), 1500);
  assert.is(budgetMs({ BANGER_COMPLETION_TIMEOUT_MS: 'soon' }), 200);
});

test('banger __complete as a process: names from the engine on its socket; none and no engine started without one', async () => {
  const env = {
    BANGER_RUNTIME_DIR: join(srv.dir, 'run'),
    BANGER_STATE_DIR: join(srv.dir, 'state'),
    BANGER_COMPLETION_TIMEOUT_MS: '5000', // a loaded test host; the default is checked above
  };
  const r = await cli(['__complete', 'vm', 'start', ''], env);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'db\tstopped\nfresh\tcreated\n:4\n');
  // A runtime dir others may write: whoever answers there is not asked.
  chmodSync(join(srv.dir, 'run'), 0o777);
  try {
    const u = await cli(['__complete', 'vm', 'start', ''], env);
    assert.is(u.code, 0, u.stderr);
    assert.is(u.stdout, ':4\n');
    assert.is(u.stderr, '', 'completion stays quiet');
  } finally {
    chmodSync(join(srv.dir, 'run'), 0o700);
  }
  const { dir, cleanup } = tempDir();
  try {
    const none = { BANGER_RUNTIME_DIR: join(dir, 'run'), BANGER_STATE_DIR: join(dir, 'state') };
    const n = await cli(['__complete', 'vm', 'stop', ''], none);
    assert.is(n.code, 0, n.stderr);
    assert.is(n.stdout, ':4\n');
    assert.not.ok(existsSync(join(dir, 'run', 'engine.sock')), 'no engine was started');
    assert.not.ok(existsSync(join(dir, 'state', 'engine.lock')));
  } finally {
    cleanup();
  }
});

test.run();
