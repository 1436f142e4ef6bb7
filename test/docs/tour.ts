// The README's five-minute tour, read from README.md and run line by line by a "side" (root in
// a throwaway HOME, or a user made for the test), inside a network namespace the test made.
// Each line is run as written, with one stand-in: `sudo banger dns setup --apply` would change
// the real host's resolver, so the test applies the variant `banger dns setup` prints for
// dnsmasq instead, inside the namespace (dnsmasq on its 127.0.0.1:53, and /etc/netns/NS/
// resolv.conf, which `ip netns exec` mounts over /etc/resolv.conf for that namespace only).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { ROOT } from './check.js';

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and as whom the tour runs. */
export interface Side {
  /** The network namespace every command runs in. */
  netns: string;
  /** argv as the side's user, in the namespace, with `banger` on PATH. */
  run(argv: string[], timeoutMs?: number): Promise<Out>;
}

/** The tour's command lines, comments stripped, from README.md's "A five-minute tour". */
export function tourLines(readme = readFileSync(join(ROOT, 'README.md'), 'utf8')): string[] {
  const at = readme.indexOf('## A five-minute tour');
  assert.ok(at >= 0, 'README has a tour');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'the tour has a sh block');
  return block[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ok(r: Out, what: string): Out {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The resolver step, the dnsmasq way, inside the side's namespace. Returns its undo. */
async function resolverStep(side: Side): Promise<() => void> {
  const printed = ok(await side.run(['banger', 'dns', 'setup']), 'banger dns setup').stdout;
  const line = printed.split('\n').find((l) => l.startsWith('server=/'));
  assert.ok(line, `banger dns setup prints a dnsmasq line:\n${printed}`);
  const etc = `/etc/netns/${side.netns}`;
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  const argv = ['ip', 'netns', 'exec', side.netns, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null'];
  argv.push('--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=127.0.0.1', '--port=53');
  argv.push('--user=root', '--group=root', `--${line}`);
  const d = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
  await sleep(300);
  assert.is(d.exitCode, null, 'dnsmasq runs');
  return () => {
    try {
      process.kill(d.pid!, 'SIGKILL');
    } catch {
      /* gone with the namespace */
    }
    rmSync(etc, { recursive: true, force: true });
  };
}

/** `ssh web.vm CMD`, as written, retried while the guest boots (the README says to wait). */
async function sshStep(side: Side, argv: string[]): Promise<Out> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const r = await side.run(['setsid', '-w', ...argv], 30_000);
    if (r.code === 0 || Date.now() > deadline) return r;
    await sleep(1000);
  }
}

/** Bare `banger`: the TUI in a tmux pane until it shows web running, then `q`. */
async function tuiStep(side: Side): Promise<string> {
  const t = ['tmux', '-L', `tour-${process.pid}`];
  ok(await side.run([...t, 'new-session', '-d', '-x', '100', '-y', '20', 'banger']), 'tmux new-session');
  let screen = '';
  for (let i = 0; i < 150 && !/web\s+running/.test(screen); i++) {
    await sleep(200);
    screen = (await side.run([...t, 'capture-pane', '-p'])).stdout;
  }
  await side.run([...t, 'send-keys', 'q']);
  for (let i = 0; i < 50 && (await side.run([...t, 'has-session'])).code === 0; i++) await sleep(100);
  await side.run([...t, 'kill-server']);
  return screen;
}

/** Run the tour; returns what each line printed, keyed by the line. */
export async function runTour(side: Side): Promise<Map<string, Out>> {
  const seen = new Map<string, Out>();
  const undo: (() => void)[] = [];
  try {
    for (const line of tourLines()) {
      const words = line.split(/\s+/);
      let r: Out;
      if (line === 'sudo banger dns setup --apply') {
        undo.push(await resolverStep(side));
        r = { code: 0, stdout: '', stderr: '' };
      } else if (words[0] === 'ssh') {
        r = await sshStep(side, words);
      } else if (line === 'banger') {
        const screen = await tuiStep(side);
        r = { code: /web\s+running/.test(screen) ? 0 : 1, stdout: screen, stderr: '' };
      } else if (words[0] === 'banger') {
        r = await side.run(words, 180_000);
      } else {
        throw new Error(`the tour test does not know how to run "${line}": teach it (test/docs/tour.ts)`);
      }
      ok(r, line);
      seen.set(line, r);
    }
  } finally {
    for (const u of undo.reverse()) u();
  }
  return seen;
}

/** What the tour must have shown, whoever ran it. */
export function checkTour(seen: Map<string, Out>): void {
  const get = (prefix: string) => [...seen].find(([l]) => l.startsWith(prefix))?.[1];
  assert.match(get('banger doctor')!.stdout, /default backend +qemu/);
  assert.match(get('banger vm ls')!.stdout, /^web +running/m);
  assert.match(get('ssh web.vm')!.stdout, /^Linux web /, 'ssh web.vm ran uname -a in the guest');
  if (process.env.TOUR_SHOW) for (const [l, r] of seen) process.stderr.write(`$ ${l}\n${r.stdout}${r.stderr}\n`);
  assert.match(get('banger vm rm')!.stderr + get('banger vm rm')!.stdout, /web|^$/);
}
