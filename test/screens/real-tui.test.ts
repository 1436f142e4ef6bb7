// The real TUI (bin/banger, embedded engine) in tmux, against the Firecracker simulator: the
// VM table, create through the form, start, the console, help, stop, delete, a resize, and
// quitting with a VM running -> "stop all VMs" leaves no engine and no VMM behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { bindingsFor } from '../../app/screens/keys.js';
import { ping } from '../../app/control/client.js';
import { cli, ROOT } from '../helpers/cli.js';
import { TmuxSession } from './tmux.js';
import {
  describeProcs,
  isSim,
  killState,
  realState,
  stateProcs,
  storedVms,
  vmList,
  waitUntil,
  type RealState,
} from './fixtures/real-engine.js';

const VM = `rt${process.pid % 10000}`;
const VM2 = `${VM}b`;
let t: RealState;
let s: TmuxSession;

function step(title: string, fn: () => Promise<void>): void {
  test(title, async () => {
    try {
      await fn();
    } catch (err) {
      s?.saveAll();
      throw err;
    }
  });
}

const row = (screen: string, name: string): string => screen.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';

test.before(async () => {
  t = await realState('banger-tui-real-');
  s = TmuxSession.start(`banger-real-${process.pid}`, t.cmd, { width: 120, height: 35, env: t.env, cwd: ROOT });
});

test.after(async () => {
  s?.kill();
  if (!t) return;
  killState(t.root);
  t.cleanup();
});

step('the VM table appears, embedded, with the engine DNS listener', async () => {
  const screen = await s.waitFor(
    (x) => x.includes('No VMs. Press c') && /DNS 127\.0\.0\.1:\d+ /.test(x),
    15_000,
    'table',
  );
  assert.match(screen, /\[embedded\]/);
  assert.not.match(screen, /DNS 127\.0\.0\.1:0 /, 'the real bound port, not the requested 0');
  assert.match(screen.split('\n')[2]!, /NAME\s+STATE\s+IP\s+DNS\s+BACKEND/);
  assert.match(screen, /c create .* s start .* x stop/);
  // The embedded engine serves the control socket too.
  const hello = await ping(t.paths.controlSocket, { timeoutMs: 1000 });
  assert.is(hello?.mode, 'embedded');
});

step('an invalid name is refused by the engine inside the form', async () => {
  s.keys('c');
  await s.waitFor('create VM', 5000, 'form');
  s.type('Bad_Name');
  s.keys('Enter');
  await s.waitFor(/invalid.*name/i, 5000, 'form-error');
  s.keys('Escape');
  await s.waitFor((x) => !x.includes('create VM'), 5000, 'form-closed');
  assert.equal(await vmList(t.env), []);
});

step('create a VM through the form (registered image and kernel, 2 vCPUs)', async () => {
  s.keys('c');
  const form = await s.waitFor('create VM', 5000, 'form');
  assert.match(form, /Image\s.*default/);
  s.type(VM);
  s.keys('Tab', 'Tab', 'Tab'); // name -> image -> kernel -> vCPUs
  s.keys('BSpace');
  s.type('2');
  s.keys('Enter');
  const screen = await s.waitFor((x) => /created/.test(row(x, VM)), 10_000, 'created');
  assert.match(row(screen, VM), /firecracker\s+2\s/);
  assert.match(row(screen, VM), /default/);
  const [vm] = await vmList(t.env);
  assert.is(vm?.name, VM);
  assert.is(vm?.state, 'created');
  assert.is(vm?.vcpus, 2);
  assert.is(vm?.image, 'default');
  assert.is(vm?.kernel, 'default');
});

step('start it: the row turns running and a simulator process runs it', async () => {
  s.keys('s');
  const screen = await s.waitFor((x) => /running/.test(row(x, VM)), 15_000, 'running');
  assert.match(screen, /VMs 1: 1 running/);
  const [vm] = await vmList(t.env);
  assert.is(vm?.state, 'running');
  assert.ok(isSim(vm?.pid), `pid ${vm?.pid} is a firecracker-sim`);
});

step('the console shows the boot output and a typed line comes back', async () => {
  s.keys('o');
  await s.waitFor(
    (x) =>
      x.includes(`Console ${VM} (running)`) &&
      x.includes('Welcome to banger (simulated guest)') &&
      x.includes('Linux version 6.1.0-banger') &&
      x.includes('Allowing 2 CPUs'),
    10_000,
    'console',
  );
  s.keys('i');
  await s.waitFor('INPUT', 5000, 'input-mode');
  s.type('echo banger-echo-4242');
  s.keys('Enter');
  const screen = await s.waitFor((x) => x.split('\n').some((l) => /^│banger-echo-4242\s*│$/.test(l)), 8000, 'echo');
  assert.match(screen, /root@\S+:~# echo banger-echo-4242/);
  s.keys('C-]');
  await s.waitFor((x) => !x.includes('INPUT'), 5000, 'input-left');
  s.keys('Escape');
  await s.waitFor((x) => row(x, VM) !== '', 5000, 'back-to-vms');
});

step('? shows the help generated from the key table', async () => {
  s.keys('?');
  const labels = bindingsFor('vms')
    .filter((x) => x.footer)
    .map((x) => x.label);
  // Wait for the whole overlay: a capture can land mid-draw, with the last lines not yet there.
  const whole = (x: string) =>
    x.includes('Keys on VMs') && x.includes(':metrics') && labels.every((l) => x.includes(l));
  const screen = await s.waitFor(whole, 5000, 'help');
  for (const l of labels) assert.ok(screen.includes(l), `help lists ${l}`);
  assert.ok(screen.includes(':metrics'));
  s.keys('Escape');
  await s.waitFor((x) => !x.includes('Keys on VMs'), 5000, 'help-closed');
});

step('6 opens the metrics dashboard fed by the real sampler; DNS answers show up by kind', async () => {
  const port = Number(/DNS 127\.0\.0\.1:(\d+) /.exec(s.capture())?.[1]);
  assert.ok(port > 0);
  s.keys('6');
  await s.waitFor(
    (x) => x.includes('host CPU %') && x.includes('VMs by state') && /running\s+1 █+/.test(x),
    8000,
    'dashboard',
  );
  // Unknown names in the zone: NXDOMAIN answers, counted by the engine's DNS server.
  const sock = createSocket('udp4');
  const ask = setInterval(() => {
    sock.send(
      dnsPacket.encode({
        type: 'query',
        id: 7,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'A', name: 'nope.vm' }],
      }),
      port,
      '127.0.0.1',
    );
  }, 50);
  try {
    const screen = await s.waitFor((x) => /DNS q\/s\s+nxdomain [1-9]/.test(x), 8000, 'dns-rate');
    const label = screen.split('\n').find((l) => l.includes('DNS q/s'))!;
    // Only kinds with traffic are drawn: not the idle counters nor the 'queries' total.
    assert.not.match(label, /formerr|dropped|queries|servfail/);
  } finally {
    clearInterval(ask);
    sock.close();
  }
  s.keys('Escape');
  await s.waitFor((x) => row(x, VM) !== '' && !x.includes('VMs by state'), 5000, 'dashboard-closed');
});

step('stop it: the row turns stopped and the VMM exits', async () => {
  const pid = (await vmList(t.env))[0]!.pid;
  s.keys('x');
  await s.waitFor((x) => /stopped/.test(row(x, VM)), 15_000, 'stopped');
  await waitUntil(() => !isSim(pid), 5000, `simulator ${pid} to exit`);
  assert.is((await vmList(t.env))[0]?.state, 'stopped');
});

step('delete asks first: n keeps it, y removes it', async () => {
  s.keys('d');
  await s.waitFor(`Delete VM ${VM}`, 5000, 'confirm');
  s.keys('n');
  const kept = await s.waitFor((x) => !x.includes(`Delete VM ${VM}`), 5000, 'confirm-no');
  assert.ok(row(kept, VM), 'still listed after "n"');
  assert.is((await vmList(t.env)).length, 1);
  s.keys('d');
  await s.waitFor(`Delete VM ${VM}`, 5000, 'confirm-again');
  s.keys('y');
  await s.waitFor((x) => row(x, VM) === '' && !x.includes('Delete VM') && x.includes('No VMs'), 10_000, 'deleted');
  assert.equal(await vmList(t.env), []);
});

step('a terminal resize redraws to fit 80x24', async () => {
  s.resize(80, 24);
  const screen = await s.waitFor(
    (x) => {
      const lines = x.split('\n');
      return lines.length >= 24 && /^NAME\s+STATE/.test(lines[2] ?? '') && !/\bDNS\b/.test(lines[2] ?? '');
    },
    8000,
    'resized',
  );
  const lines = screen.replace(/\n+$/, '').split('\n');
  assert.ok(
    lines.every((l) => l.length <= 80),
    'no line wider than 80',
  );
  assert.match(lines[lines.length - 1]!, /create/);
  s.resize(120, 35);
  await s.waitFor((x) => /\bDNS\b/.test(x.split('\n')[2] ?? ''), 8000, 'resized-back');
});

step('a VM started from the CLI meanwhile shows up running', async () => {
  for (const args of [
    ['vm', 'create', VM2],
    ['vm', 'start', VM2],
  ]) {
    const r = await cli(args, t.env);
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stderr, /started the engine/, "the CLI used the TUI's engine");
  }
  await s.waitFor((x) => /running/.test(row(x, VM2)), 10_000, 'cli-vm-running');
});

step('quit with a VM running asks; "stop all VMs" stops it and leaves no engine', async () => {
  const pid = (await vmList(t.env)).find((v) => v.name === VM2)!.pid;
  assert.ok(isSim(pid));
  s.keys('q');
  const q = await s.waitFor('leave the engine and VMs running', 5000, 'quit-question');
  // The question is wrapped once, to the dialog's width, and every answer fits.
  assert.match(
    q.split('\n').find((l) => l.includes('VMs are running'))!,
    /Keep the engine/,
  );
  assert.match(q, /Esc\s+cancel/);
  s.keys('s');
  await s.waitFor(/\[exited 0\]/, 20_000, 'exited');
  assert.is(await ping(t.paths.controlSocket, { timeoutMs: 500 }), null);
  assert.not.ok(isSim(pid), 'the VMM is gone');
  await waitUntil(() => stateProcs(t.root).length === 0, 5000, 'no process of this state').catch((err) => {
    throw new Error(`${(err as Error).message}:\n${describeProcs(stateProcs(t.root))}`);
  });
  const vms = await storedVms(t.paths.dbFile);
  assert.equal(
    vms.map((v) => [v.name, v.state]),
    [[VM2, 'stopped']],
  );
});

test.run();
