import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataModel, type Topic } from '../../../app/screens/state/data.js';
import { RenderCoalescer, Throttle } from '../../../app/screens/state/scheduler.js';
import { FakeEngine } from '../../helpers/fake-engine.js';
import { FormState, LineInput } from '../../../app/screens/widgets/form.js';
import { parseCreateForm } from '../../../app/screens/actions/create-form.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a burst of events causes at most one refetch per interval, with a trailing one', async () => {
  const engine = new FakeEngine();
  let listCalls = 0;
  const orig = engine.listVms.bind(engine);
  engine.listVms = async () => {
    listCalls++;
    return orig();
  };
  const changes: Set<Topic>[] = [];
  const model = new DataModel(engine, (t) => changes.push(t), 100);
  await model.start();
  listCalls = 0;
  engine.seed(1, 'stopped');
  const vm = engine.vms.get('vm-0000')!;
  const t0 = Date.now();
  for (let i = 0; i < 200; i++) model.onEvent({ type: 'vm', vm: { ...vm, vcpus: i + 1 } });
  assert.is(model.vms.find((v) => v.name === 'vm-0000')?.vcpus, 200); // applied at once from the event
  await sleep(350);
  const elapsed = Date.now() - t0;
  assert.ok(listCalls >= 1, 'refetched');
  assert.ok(listCalls <= Math.ceil(elapsed / 100) + 1, `refetches ${listCalls} in ${elapsed} ms`);
  assert.ok(listCalls <= 2, `one burst -> one refetch, got ${listCalls}`);
  model.stop();
  engine.dispose();
});

test('build progress and logs stream into the model', async () => {
  const engine = new FakeEngine({ buildStepMs: 5 });
  const model = new DataModel(engine, () => {}, 20);
  await model.start();
  await engine.buildImage({ name: 'deb', from: 'debian:bookworm' });
  const b = [...model.builds.values()].find((x) => x.name === 'deb')!;
  assert.is(b.state, 'done');
  assert.is(b.percent, 100);
  assert.ok(model.buildLog(b.id).some((l) => l.includes('[mkfs]')));
  await sleep(60);
  assert.ok(
    model.images.some((i) => i.name === 'deb'),
    'images refetched after the image event',
  );
  model.stop();
});

test('throttle and coalescer', async () => {
  let n = 0;
  const t = new Throttle(() => n++, 50);
  for (let i = 0; i < 50; i++) t.call();
  await sleep(20);
  assert.is(n, 1);
  t.call();
  await sleep(80);
  assert.is(n, 2);
  t.stop();
  let renders = 0;
  const c = new RenderCoalescer(() => renders++);
  for (let i = 0; i < 100; i++) c.request();
  await new Promise((r) => setImmediate(r));
  assert.is(renders, 1);
});

test('form state edits text, cycles choices, submits and cancels', () => {
  const f = new FormState([
    { key: 'name', label: 'Name', kind: 'text', value: '' },
    { key: 'src', label: 'Source', kind: 'choice', value: 'busybox', options: ['busybox', 'debian:bookworm'] },
  ]);
  for (const ch of 'web') f.key(ch, ch);
  f.key('backspace');
  assert.is(f.values().name, 'we');
  assert.is(f.key('tab'), null);
  f.key('right');
  assert.is(f.values().src, 'debian:bookworm');
  f.key('right');
  assert.is(f.values().src, 'busybox');
  f.key('x', 'x'); // typing on a choice changes nothing
  assert.is(f.values().src, 'busybox');
  assert.is(f.key('enter'), 'submit');
  assert.is(f.key('escape'), 'cancel');
  const l = new LineInput();
  l.key('a', 'a');
  l.key('b', 'b');
  l.key('backspace');
  assert.is(l.value, 'a');
  assert.is(l.key('enter'), 'submit');
});

test("create form parsing rejects what the engine would, with the engine's message", () => {
  const form = { name: 'x', vcpus: '1', memory: '256', image: 'busybox', kernel: '(default)', disk: '1G' };
  const err = (patch: Record<string, string>) => (parseCreateForm({ ...form, ...patch }) as { error?: string }).error;
  assert.is(err({ vcpus: 'two' }), 'invalid vCPU count "two": must be a whole number from 1 to 32');
  // The engine's own limits, not a looser copy: too many vCPUs, too little memory, a bad name or disk.
  assert.match(String(err({ vcpus: '64' })), /^invalid vCPU count "64"/);
  assert.match(String(err({ memory: '64' })), /^invalid memory "64" MiB: must be a whole number from 128/);
  assert.match(String(err({ name: 'bad_name' })), /^invalid VM name "bad_name": use 1-63 characters/);
  assert.match(String(err({ name: '' })), /^invalid VM name ""/);
  assert.match(String(err({ disk: '1K' })), /^invalid disk size "1K": must be at least 64M/);
  const ok = parseCreateForm({
    name: ' x ',
    vcpus: '2',
    memory: '512',
    image: 'busybox',
    kernel: '(default)',
    disk: '',
  });
  assert.equal(ok, {
    input: { name: 'x', image: 'busybox', kernel: undefined, vcpus: 2, memoryMib: 512, disk: undefined },
  });
  // The name as the engine keeps it (case folded), the disk as written (the engine parses it).
  assert.equal(parseCreateForm({ ...form, name: 'Web-1', disk: '2G' }), {
    input: { name: 'web-1', image: 'busybox', kernel: undefined, vcpus: 1, memoryMib: 256, disk: '2G' },
  });
});

test.run();
