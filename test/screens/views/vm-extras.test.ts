// What a developer brings into a VM, in the TUI, as a terminal shows it (blessed's output parsed
// by a headless xterm): a VM's mounts, published ports and first-boot facts in its detail pane and
// Enter overlay, an image's OCI config in the Images screen's overlay, and the create form's new
// fields: a bad spec or an unreadable file is the form's error with nothing sent; good ones go
// into the engine's create input, the files read by the TUI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xtermHeadless from '@xterm/headless';
import type { Terminal as TerminalType } from '@xterm/headless';
import { runTui, type TuiInternals } from '../../../app/screens/tui.js';
import type { VmCreateInput, VmRecord } from '../../../app/contract/api.js';
import { FakeEngine } from '../../helpers/fake-engine.js';

const { Terminal } = xtermHeadless as unknown as { Terminal: typeof TerminalType };
process.env.TERM = 'xterm-256color';

const COLS = 120;
const ROWS = 50;
const term = new Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
const output = Object.assign(
  new Writable({
    write(chunk, _e, cb) {
      term.write(chunk.toString());
      cb();
    },
  }),
  { isTTY: true, columns: COLS, rows: ROWS },
);

/** The screen as the terminal shows it, once xterm has parsed everything written so far. */
async function screenText(): Promise<string> {
  handle.screen.render();
  await new Promise<void>((r) => term.write('', r));
  const b = term.buffer.active;
  return Array.from({ length: ROWS }, (_, i) => b.getLine(b.viewportY + i)?.translateToString(true) ?? '').join('\n');
}

async function until(what: (s: string) => boolean, label: string, ms = 3000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await screenText();
    if (what(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}:\n${s}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let engine: FakeEngine;
let handle: TuiInternals;
let dir: string;
const key = (ch: string, name = ch, extra: object = {}) =>
  handle.screen.program.emit('keypress', ch, { name, full: name, sequence: ch, ...extra });
const type = (s: string) => [...s].forEach((c) => key(c));
const tab = (n = 1) => Array.from({ length: n }, () => key('\t', 'tab'));
const creates = () => engine.calls.filter((c) => c.method === 'createVm').map((c) => c.args[0] as VmCreateInput);

/** Put a VM into the fake engine as the contract records it, and tell the TUI. */
function putVm(name: string, extra: Partial<VmRecord>): void {
  const vm = { ...[...engine.vms.values()][0]!, id: `id-${name}`, name, ...extra } as VmRecord;
  engine.vms.set(name, vm);
  engine.emit({ type: 'vm', vm });
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'banger-tui-extras-'));
  engine = new FakeEngine({ transitionMs: 0 });
  engine.seed(1, 'stopped');
  putVm('aaa-dev', {
    state: 'stopped',
    mounts: [
      { hostDir: '/home/me/src', guestDir: '/src', readOnly: false, tag: 'm0' },
      { hostDir: '/home/me/data', guestDir: '/data', readOnly: true, tag: 'm1' },
    ],
    ports: [
      { addr: '127.0.0.1', hostPort: 8080, guestPort: 80, proto: 'tcp' },
      { addr: '0.0.0.0', hostPort: 5353, guestPort: 53, proto: 'udp' },
    ],
    userData: '#!/bin/sh\necho hi\n',
    sshKeys: ['ssh-ed25519 AAAA one', 'ssh-ed25519 AAAA two'],
    run: true,
  });
  handle = await runTui(engine, { mode: 'embedded', onQuit: async () => {}, input, output });
});
test.after(() => {
  handle?.destroy();
  engine?.dispose();
  term.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('the detail pane shows mounts (ro marked), published ports and first-boot facts', async () => {
  handle.app.vmsView.selectByName('aaa-dev');
  const s = await until((x) => x.includes('mounts'), 'the mounts line');
  assert.match(s, /mounts\s+\/home\/me\/src → \/src, \/home\/me\/data → \/data \(ro\)/);
  assert.match(s, /ports\s+127\.0\.0\.1:8080 → 80\/tcp, 0\.0\.0\.0:5353 → 53\/udp/);
  assert.match(s, /first boot\s+user-data yes, 18B; ssh 2 keys; run yes/);
});

test('a VM without any of them: no such lines in its pane; the overlay says none and no', async () => {
  const plain = [...engine.vms.values()].find((v) => v.name !== 'aaa-dev')!.name;
  handle.app.vmsView.selectByName(plain);
  const s = await until((x) => !x.includes('first boot'), 'the plain pane');
  assert.not.match(s, /mounts|→/);
  key('\r', 'enter');
  const o = await until((x) => x.includes(`VM ${plain}`) && x.includes('user-data'), 'the overlay');
  assert.match(o, /mounts\s+none/);
  assert.match(o, /ports\s+none/);
  assert.match(o, /user-data\s+no/);
  assert.match(o, /run\s+no/);
  key('\x1b', 'escape');
  await until((x) => !x.includes(`VM ${plain}`), 'overlay closed');
});

test('the Enter overlay lists each mount and port on its own line', async () => {
  handle.app.vmsView.selectByName('aaa-dev');
  key('\r', 'enter');
  const o = await until((x) => x.includes('VM aaa-dev') && x.includes('ssh keys'), 'the overlay');
  assert.match(o, /mounts\s+\/home\/me\/src → \/src\s*│?\n.*\/home\/me\/data → \/data \(ro\)/);
  assert.match(o, /ports\s+127\.0\.0\.1:8080 → 80\/tcp\s*│?\n.*0\.0\.0\.0:5353 → 53\/udp/);
  assert.match(o, /user-data\s+yes, 18B/);
  assert.match(o, /ssh keys\s+2 keys/);
  key('\x1b', 'escape');
  await until((x) => !x.includes('VM aaa-dev'), 'overlay closed');
});

test("Images: Enter shows an image's OCI config (entrypoint, cmd, exposed ports)", async () => {
  const img = [...engine.images.values()][0]!;
  engine.images.set(img.name, {
    ...img,
    config: {
      env: ['PATH=/usr/bin'],
      entrypoint: ['/docker-entrypoint.sh'],
      cmd: ['nginx', '-g', 'daemon off;'],
      workingDir: null,
      user: null,
      exposedPorts: ['80/tcp'],
    },
  });
  await handle.app.resync();
  key('3');
  await until((x) => x.includes('IMAGE'), 'images screen');
  key('\r', 'enter');
  const o = await until((x) => x.includes(`image ${img.name}`) && x.includes('entrypoint'), 'image overlay');
  assert.match(o, /entrypoint\s+\/docker-entrypoint\.sh/);
  assert.match(o, /cmd\s+nginx -g 'daemon off;'/);
  assert.match(o, /exposed ports\s+80\/tcp/);
  assert.match(o, /env\s+PATH=\/usr\/bin/);
  key('\x1b', 'escape');
  key('1');
  await until((x) => x.includes('NAME'), 'back to VMs');
});

/** Open the form, type a name, then for each [field index, text]: Tab down to it and type. */
async function formWith(name: string, fields: [number, string][]): Promise<void> {
  key('c');
  await until((x) => x.includes('create VM'), 'the form');
  type(name);
  await formWithRest(fields, 0);
}

async function formWithRest(fields: [number, string][], from: number): Promise<void> {
  let at = from;
  for (const [index, text] of fields) {
    tab(index - at);
    at = index;
    type(text);
  }
}
const BACKEND = 6;
const MOUNTS = 7;
const PUBLISH = 8;
const USER_DATA = 9;
const SSH_KEY = 10;
const RUN = 11;

const closeForm = async () => {
  key('\x1b', 'escape');
  await until((x) => !x.includes('create VM'), 'form closed');
};

test('a bad mount or port spec, an unreadable file: the form says so and sends nothing', async () => {
  try {
    await badSpecs();
  } finally {
    await closeForm();
  }
});

async function badSpecs(): Promise<void> {
  const before = creates().length;
  await formWith('web', [[MOUNTS, '/srv:relative']]);
  key('\r', 'enter');
  let s = await until((x) => /GUESTDIR|absolute/i.test(x), 'the mount error');
  assert.match(s, /create VM/, 'the form stays open');
  key('\x15', 'u', { ctrl: true }); // C-u: the cursor is back on Mounts; clear it
  tab(PUBLISH - MOUNTS);
  type('8080:99999');
  key('\r', 'enter');
  s = await until((x) => /99999/.test(x) && /port/i.test(x) && !/working/.test(x), 'the port error');
  key('\x15', 'u', { ctrl: true });
  tab(USER_DATA - PUBLISH);
  type(join(dir, 'missing.yaml'));
  key('\r', 'enter');
  s = await until((x) => /cannot read the user-data file: no such file \(ENOENT\)/.test(x), 'the file error');
  assert.match(s, /missing\.yaml/, 'the path is shown whole (the error wraps)');
  assert.is(creates().length, before, 'nothing reached the engine');
}

test('good specs and files: backend, mounts, publish, user-data, ssh keys and run go into the create input', async () => {
  const ud = join(dir, 'user-data');
  writeFileSync(ud, '#cloud-config\nruncmd: [touch /ok]\n');
  const pub = join(dir, 'id.pub');
  writeFileSync(pub, 'ssh-ed25519 AAAAC3Nz me@host\n');
  await formWith('web', []);
  tab(BACKEND);
  key('\x1b[C', 'right');
  key('\x1b[C', 'right'); // (default) -> firecracker -> qemu: shared folders need qemu
  tab(MOUNTS - BACKEND);
  type('/tmp:/work, /tmp:/ref:ro');
  await formWithRest(
    [
      [PUBLISH, '8080:80, 0.0.0.0:5353:53/udp'],
      [USER_DATA, ud],
      [SSH_KEY, pub],
    ],
    MOUNTS,
  );
  tab(RUN - SSH_KEY);
  key(' ', 'space');
  key('\r', 'enter');
  await until((x) => !x.includes('create VM') && x.includes('created web'), 'created');
  const input = creates().at(-1)!;
  assert.is(input.backend, 'qemu');
  assert.equal(input.mounts, ['/tmp:/work', '/tmp:/ref:ro']);
  assert.equal(input.publish, ['8080:80', '0.0.0.0:5353:53/udp']);
  assert.is(input.userData, '#cloud-config\nruncmd: [touch /ok]\n');
  assert.equal(input.sshKeys, ['ssh-ed25519 AAAAC3Nz me@host\n'], 'the file as read, as the CLI sends it');
  assert.is(input.run, true);
});

test.run();
