// The Images screen over a headless terminal: images and kernels are two tables, each build
// says what it makes (image or kernel), and d deletes whichever of image or kernel has the
// focus (←/→ moves it), after asking; i imports an image and x cancels the running build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Writable } from 'node:stream';
import { runTui, type TuiInternals } from '../../../app/screens/tui.js';
import type { ImagesView } from '../../../app/screens/views/images.js';
import { FakeEngine } from '../../helpers/fake-engine.js';

process.env.TERM = 'xterm-256color';
const until = async (what: () => boolean, label: string, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

let engine: FakeEngine;
let handle: TuiInternals;
const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
const output = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: true, columns: 120, rows: 40 });
const press = (ch: string, name = ch) => handle.screen.program.emit('keypress', ch, { name, full: name, sequence: ch });
const view = () => handle.app.views.images as ImagesView;
const content = () =>
  [view().root, ...view().root.children].map((c) => (c as { getContent(): string }).getContent()).join('\n');

test.before(async () => {
  engine = new FakeEngine({ buildStepMs: 5 });
  await engine.addKernel({ name: 'lts', path: '/k/vmlinux-lts' });
  handle = await runTui(engine, { mode: 'embedded', onQuit: async () => {}, input, output });
  press('3');
  await until(() => handle.app.current === 'images', 'images screen');
});
test.after(() => {
  handle?.destroy();
  engine?.dispose();
});

test('kernels are a table of their own, beside the images', async () => {
  await until(() => content().includes('lts'), 'kernel rows');
  assert.match(content(), /KERNEL\s+VERSION\s+INITRD\s+SOURCE/);
  assert.match(content(), /IMAGE\s+SIZE\s+SOURCE/);
});

test('each build row says whether it makes an image or a kernel', async () => {
  await engine.buildImage({ name: 'web', from: 'busybox' });
  engine.builds.set('k1', {
    id: 'k1',
    kind: 'kernel',
    name: 'default',
    phase: 'extract',
    percent: 40,
    state: 'running',
    error: null,
    logPath: null,
    startedAt: new Date().toISOString(),
    endedAt: null,
  });
  await handle.app.resync();
  await until(() => /kernel\s+default\s+extract/.test(content()) && /image\s+web\s+done/.test(content()), 'kinds');
});

test('d with the kernels table focused deletes the kernel (after asking), not an image', async () => {
  press('\x1b[C', 'right');
  assert.is(view().focus, 'kernels');
  assert.is(view().selected, undefined, 'no image is the target while kernels have the focus');
  const k = view().selectedKernel!;
  press('d');
  await until(() => handle.app.modalOpen, 'confirm');
  press('y');
  await until(() => engine.calls.some((c) => c.method === 'removeKernel' && c.args[0] === k.name), 'removeKernel');
  assert.not.ok(
    engine.calls.some((c) => c.method === 'removeImage'),
    'no image removed',
  );
  press('\x1b[D', 'left');
  assert.is(view().focus, 'images');
  assert.ok(view().selected, 'the images table has the cursor again');
});

test('i imports an image: REF, platform and TLS from the form reach the engine', async () => {
  press('i');
  await until(() => handle.app.modalOpen, 'import form');
  for (const ch of 'web2') press(ch);
  press('\t', 'tab');
  for (const ch of 'localhost:5000/web:1') press(ch);
  press('\t', 'tab');
  press('\t', 'tab');
  press('\x1b[C', 'right'); // Verify TLS: true -> false
  press('\r', 'enter');
  await until(() => engine.calls.some((c) => c.method === 'importImage'), 'importImage');
  const call = engine.calls.find((c) => c.method === 'importImage')!;
  assert.equal(call.args[0], {
    name: 'web2',
    path: 'docker://localhost:5000/web:1',
    platform: 'linux/amd64',
    tlsVerify: false,
  });
});

test('x cancels the running build, after asking', async () => {
  await until(() => !handle.app.modalOpen, 'form closed');
  press('x');
  await until(() => handle.app.modalOpen, 'confirm');
  press('y');
  await until(() => engine.calls.some((c) => c.method === 'cancelBuild' && c.args[0] === 'k1'), 'cancelBuild k1');
});

test.run();
