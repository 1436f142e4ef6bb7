// TAP counters from a real TAP inside a throwaway network namespace. A small perl program
// attaches to the TAP through /dev/net/tun (as a VMM would), writes ARP requests into it (the
// host's rx) and reads what the kernel sends back (the host's tx). Nothing touches the root
// namespace: the TAP, its address and all traffic live in the test's netns.
import { test } from 'uvu';
import { NEEDS_ROOT, runIf } from '../../helpers/skip.js';
import * as assert from 'uvu/assert';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner } from '../../../app/base/process.js';
import type { VmSample } from '../../../app/contract/api.js';

const nsTest = runIf(test, NEEDS_ROOT);

const runner = createRunner();
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const probe = join(here, 'netns-probe.ts');
const ns = `banger-mtest-${process.pid}`;
const tap = 'bmt0';

// Attach to TAP ARGV[0] for ARGV[1] seconds: every 100 ms write an ARP "who-has 10.250.77.1"
// from 10.250.77.2, and read (drain) every frame the kernel sends to the device.
const TAP_GUEST = String.raw`
use strict;
my ($ifname, $secs) = @ARGV;
open(my $fh, '+<', '/dev/net/tun') or die "open /dev/net/tun: $!";
binmode $fh;
ioctl($fh, 0x400454ca, pack('Z16 s x22', $ifname, 0x0002 | 0x1000)) or die "TUNSETIFF: $!";
my $mac = pack('H12', '020000000002');
my $arp = pack('H12', 'ffffffffffff') . $mac . pack('n', 0x0806)
  . pack('n n C C n', 1, 0x0800, 6, 4, 1) . $mac . pack('C4', 10, 250, 77, 2)
  . pack('H12', '000000000000') . pack('C4', 10, 250, 77, 1);
$| = 1;
print "attached\n";
my ($wrote, $read) = (0, 0);
my $end = time() + $secs;
my $rin = ''; vec($rin, fileno($fh), 1) = 1;
my $next = 0;
while (time() < $end) {
  my $now = time();
  if ($now >= $next) { $wrote += syswrite($fh, $arp) // die "write: $!"; $next = $now + 0.1; }
  my $r = $rin;
  if (select($r, undef, undef, 0.05) > 0) { my $b; my $n = sysread($fh, $b, 4096); $read += $n if $n; }
}
print "wrote $wrote read $read\n";
`.replace('use strict;', 'use strict; use Time::HiRes qw(time);');

async function inNs(argv: string[]): Promise<string> {
  const r = await runner.run(['ip', 'netns', 'exec', ns, ...argv], { cwd: repo, timeoutMs: 30_000 });
  return r.stdout;
}

async function counters(): Promise<{ rxBytes: number; txBytes: number }> {
  const out = await inNs([process.execPath, '--import', 'tsx', probe, 'counters', tap]);
  const c = JSON.parse(out.trim());
  assert.ok(c, 'counters of the TAP inside the netns');
  return c;
}

nsTest('TAP counters inside a netns rise with traffic, and the sampler turns them into guest-side rates', async () => {
  await runner.run(['ip', 'netns', 'add', ns]);
  let guest: ReturnType<typeof runner.spawn> | null = null;
  try {
    await runner.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runner.run(['ip', '-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await runner.run(['ip', '-n', ns, 'addr', 'add', '10.250.77.1/24', 'dev', tap]);
    await runner.run(['ip', '-n', ns, 'link', 'set', tap, 'up']);

    const before = await counters();
    // The reader sees the TAP only from inside its namespace.
    const outside = await runner.run([process.execPath, '--import', 'tsx', probe, 'counters', tap], { cwd: repo });
    assert.is(outside.stdout.trim(), 'null', 'the test TAP must not exist in the root namespace');

    // `ip netns exec` execs perl in place, so the spawned pid is the "VMM" pid.
    guest = runner.spawn(['ip', 'netns', 'exec', ns, 'perl', '-e', TAP_GUEST, tap, '3'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    let out = '';
    guest.child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    let err = '';
    guest.child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const t0 = Date.now();
    while (!out.includes('attached') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(out.includes('attached'), `perl attached to the TAP (${err.trim()})`);

    const hist = JSON.parse(
      (await inNs([process.execPath, '--import', 'tsx', probe, 'sample', tap, String(guest.pid), '1000'])).trim(),
    ) as VmSample[];
    const ex = await guest.exited;
    assert.is(ex.code, 0, `perl guest exited cleanly: ${err.trim()}`);
    const m = /wrote (\d+) read (\d+)/.exec(out);
    assert.ok(m, out);
    const wrote = Number(m![1]);
    const read = Number(m![2]);
    assert.ok(wrote >= 42 * 10, `perl wrote frames (${wrote} bytes)`);
    assert.ok(read > 0, 'the kernel answered into the TAP');

    const after = await counters();
    // Host view: rx = what the "guest" wrote, tx = what it read (exactly, per tun's accounting).
    assert.is(after.rxBytes - before.rxBytes, wrote, 'rx_bytes grew by exactly what was written');
    assert.ok(
      after.txBytes - before.txBytes >= read,
      `tx_bytes grew by at least what was read (${after.txBytes - before.txBytes} >= ${read})`,
    );

    // Sampler, inside the netns: two rounds 1 s apart while ~420 B/s flow each way.
    assert.is(hist.length, 2);
    const last = hist[1];
    if (process.env.BANGER_TEST_VERBOSE) console.log(JSON.stringify({ before, after, wrote, read, last }));
    assert.is(last.vmId, 'probe');
    assert.ok(last.txBps > 100 && last.txBps < 5000, `guest tx rate (host rx) ~420 B/s, got ${last.txBps}`);
    assert.ok(last.rxBps > 0, `guest rx rate (ARP replies), got ${last.rxBps}`);
    assert.ok(last.txBytes > before.rxBytes && last.txBytes <= after.rxBytes, 'guest tx total is the TAP rx counter');
    assert.ok(last.rssBytes > 1024 * 1024, 'RSS of the perl process');
  } finally {
    if (guest && guest.child.exitCode === null) {
      try {
        process.kill(guest.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await runner.run(['ip', 'netns', 'delete', ns], { reject: false });
  }
});

nsTest('kept-open counter files survive a TAP being deleted and recreated (reopen once)', async () => {
  await runner.run(['ip', 'netns', 'add', ns]);
  try {
    await runner.run(['ip', '-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    const r = JSON.parse((await inNs([process.execPath, '--import', 'tsx', probe, 'reopen', tap])).trim());
    assert.equal(r.before, ['0\n', '0\n']);
    assert.is(r.whileGone, null, 'a deleted TAP reads as gone');
    assert.is(r.after[0], '0\n', 'reopened on the recreated TAP');
    assert.is(r.after[1], null, 'without reopen the old fd stays dead (ENODEV)');
    assert.equal(r.open, [true, false]);
  } finally {
    await runner.run(['ip', 'netns', 'delete', ns], { reject: false });
  }
});

nsTest('the test namespace is gone afterwards', async () => {
  const r = await runner.run(['ip', 'netns', 'list']);
  assert.not.ok(r.stdout.includes(ns));
});

test.run();
