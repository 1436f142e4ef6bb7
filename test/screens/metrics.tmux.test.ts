// Live metrics in a real terminal (tmux): the CPU% column and the detail sparklines follow the
// fake engine's metrics stream (every 200 ms), and the Metrics screen (`6` / :metrics) draws its charts,
// gauges and VM-state table, also at 80x24.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmuxSession, tuiCommand } from './tmux.js';

let s: TmuxSession;
const row = (screen: string, name: string) => screen.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';

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

test.before(() => {
  s = TmuxSession.start(`banger-metrics-${process.pid}`, tuiCommand(), {
    width: 120,
    height: 35,
    env: { FAKE_VMS: '3', FAKE_METRICS_MS: '200' },
  });
});
test.after(() => s?.kill());

step('the VM table has a CPU% column fed by the stream', async () => {
  const screen = await s.waitFor((x) => /\d+(\.\d)?%/.test(row(x, 'vm-0001')), 8000, 'cpu-column');
  assert.match(screen.split('\n')[2]!, /VCPU\s+CPU%\s+MEM/);
  // The value changes with the stream (the fake's CPU is a wave).
  const first = row(screen, 'vm-0001');
  await s.waitFor((x) => row(x, 'vm-0001') !== first && /\d%/.test(row(x, 'vm-0001')), 5000, 'cpu-moves');
});

step('the detail pane shows cpu/rss/rx/tx sparklines', async () => {
  const screen = await s.waitFor(
    (x) => /│ cpu\s+[▁-█]*[▁-█]{3,} \S+%/.test(x) && /│ rx\s+[▁-█ ]+\S+\/s/.test(x),
    8000,
    'sparklines',
  );
  assert.match(screen, /rss\s+[▁-█ ]+\d+M/);
  assert.match(screen, /tx\s+[▁-█ ]+\S+\/s/);
});

const dashboardUp = (x: string) =>
  x.includes('host CPU %') &&
  x.includes('memory used') &&
  x.includes('committed to VMs') &&
  x.includes('VMs by state') &&
  x.includes('DNS q/s') &&
  /running\s+3 █+/.test(x);

step('6 opens the dashboard: line charts with axes, gauges with percent, VM states', async () => {
  s.keys('6');
  const screen = await s.waitFor(dashboardUp, 8000, 'dashboard');
  assert.match(screen, /6 Metrics/);
  assert.match(screen, /│\s*80 ⡇/, 'the CPU chart has a y axis up to 100');
  assert.match(screen, /-\d+(\.\d)?s .*0s/, 'relative time labels on the x axis');
  assert.match(screen, /⠓⠒⠒⠒/, 'the x axis baseline');
  assert.match(screen, /memory used \d+(\.\d)?G of 16G/);
  assert.match(screen, /│\s+\d+%\s+│/, 'gauge percent text');
  assert.match(screen, /DNS q\/s\s+forwarded [\d.]+\s+nxdomain [\d.]+\s+vm [\d.]+/);
  assert.match(screen, /Esc back to VMs/);
  // It keeps drawing: the "now" figure of the CPU chart changes as samples arrive.
  const now = /host CPU % \(now (\d+)%\)/.exec(screen)?.[1];
  await s.waitFor(
    (x) => {
      const m = /host CPU % \(now (\d+)%\)/.exec(x);
      return !!m && m[1] !== now;
    },
    6000,
    'cpu-moves',
  );
});

step('at 80x24 the dashboard still fits and reads', async () => {
  s.resize(80, 24);
  const screen = await s.waitFor(
    (x) => dashboardUp(x) && x.split('\n')[2]!.length <= 80 && /^┌─ host CPU/.test(x.split('\n')[2]!),
    6000,
    'dashboard-80x24',
  );
  const lines = screen.replace(/\n+$/, '').split('\n');
  assert.ok(
    lines.every((l) => l.length <= 80),
    'no line wider than 80',
  );
  assert.match(lines[lines.length - 1]!, /Esc back to VMs/);
  assert.match(screen, /│\s+\d+%\s+│/, 'gauge percent text at 80x24');
});

step('Esc goes back to the VM table; :metrics comes back; :q quits', async () => {
  s.keys('Escape');
  await s.waitFor((x) => row(x, 'vm-0000') !== '' && !x.includes('VMs by state'), 3000, 'back');
  s.keys(':');
  s.type('metrics');
  s.keys('Enter');
  await s.waitFor(dashboardUp, 5000, 'metrics-command');
  s.keys(':');
  s.type('q');
  s.keys('Enter');
  await s.waitFor(/quit|leave the engine/, 5000, 'quit-question');
  s.keys('l');
  await s.waitFor(/\[exited 0\]/, 8000, 'exited');
});

test.run();
