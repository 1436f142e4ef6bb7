// The console log cap at the source. The VMM's stdout/stderr go into a pipe read by a small
// relay process that appends to console.log and keeps it under the cap (truncating in place to
// the last half, as ConsoleTail does). The relay is spawned detached, like the VMM, so the cap
// holds with no engine running; it ends on EOF, when the VMM (the pipe's only writer) exits.
// perl is Essential on Debian (perl-base); without it the VMM writes the file directly and only
// an engine's tail caps it.
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { ProcessRunner } from '../../base/process.js';
import { which } from '../../base/process.js';

// Reads stdin, appends to LOG; past CAP bytes keeps the last CAP/2 (from a line start when
// one is near) by rewriting the file in place, so readers holding it open stay valid.
const RELAY = String.raw`
use strict; use warnings;
my ($log, $cap) = @ARGV;
$SIG{PIPE} = 'IGNORE'; $SIG{HUP} = 'IGNORE'; $SIG{INT} = 'IGNORE';
open(my $out, '>>', $log) or die "banger console relay: $log: $!\n";
binmode STDIN; binmode $out;
sub trim {
  my $size = -s $log;
  return unless $cap > 0 && defined $size && $size > $cap;
  open(my $rw, '+<', $log) or return;
  binmode $rw;
  my $keep = int($cap / 2);
  seek($rw, $size - $keep, 0);
  my $tail = ''; read($rw, $tail, $keep);
  my $nl = index($tail, "\n");
  $tail = substr($tail, $nl + 1) if $nl >= 0 && $nl < 4096;
  seek($rw, 0, 0); print $rw $tail; truncate($rw, length $tail); close($rw);
}
my $buf;
for (;;) {
  my $n = sysread(STDIN, $buf, 65536);
  if (!defined $n) { next if $!{EINTR}; last; }
  last if $n == 0;
  my $off = 0;
  while ($off < $n) { my $w = syswrite($out, $buf, $n - $off, $off); last unless defined $w; $off += $w; }
  trim();
}
`;

export interface ConsoleSink {
  /** What the VMM gets as stdout and stderr: the relay's pipe, or the log file itself. */
  stdio: number | Socket;
  /** The relay's pid (null: no relay, the VMM writes the file). */
  relayPid: number | null;
  /** Drop the engine's copy of the write end, once the VMM holds its own. */
  release(): void;
}

/** A sink for the VMM's console output under a size cap (0: no cap, the plain file). */
export function openConsoleSink(runner: ProcessRunner, logPath: string, maxBytes: number): ConsoleSink {
  const perl = maxBytes > 0 ? which('perl') : null;
  if (!perl) {
    const fd = openSync(logPath, 'a', 0o600); // O_APPEND: see ConsoleTail on the size cap
    return { stdio: fd, relayPid: null, release: () => closeSync(fd) };
  }
  closeSync(openSync(logPath, 'a', 0o600));
  const relay = runner.spawn([perl, '-e', RELAY, logPath, String(Math.floor(maxBytes))], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  const pipe = relay.child.stdin as Socket;
  pipe.on('error', () => {});
  return {
    stdio: pipe,
    relayPid: relay.pid > 0 ? relay.pid : null,
    release: () => pipe.destroy(),
  };
}
