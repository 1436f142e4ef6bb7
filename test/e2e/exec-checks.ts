// The vm exec / vm cp checks every real-guest file runs on its one VM (busybox as root, busybox
// as a created user, Debian as a created user): exit codes and separate streams, -i, -t; cp
// both ways of a tree (modes equal), "-" tar streams, Docker's "DIR/." and "DIR/" forms, a
// 100 MiB file (checksums equal). Who runs the CLI is the caller's: a Cli says how.
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ok, run, type Output } from './harness.js';

export interface Cli {
  /** The VM every check runs against (running, answering ssh). */
  vm: string;
  /** banger ARGS as the CLI's user, stdin from input when given. */
  b(args: string[], timeoutMs?: number, input?: string): Promise<Output>;
  /** A shell script as the CLI's user, with BANGER standing for the CLI (tar streams are bytes). */
  sh(script: string, timeoutMs?: number): Promise<Output>;
  /** A dir the CLI's user owns and the test can read: every local file of the checks lives here. */
  work: string;
  /** Hand a path the test made (as root) to the CLI's user (recursively). */
  own(path: string): Promise<void>;
  /** Figures for the file's closing log lines. */
  figures: string[];
}

/** banger's own failure: exit 125 and the code on stderr. */
export function fails(r: Output, code: string, what: string): void {
  assert.is(r.code, 125, `${what}: banger's own failure exits 125 (got ${r.code})\nstderr: ${r.stderr}`);
  assert.ok(r.stderr.includes(`[${code}]`), `${what}: ${code} on stderr: ${r.stderr}`);
}

export const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** path -> "mode size sha" for every entry under dir, relative. */
export function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = statSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      out[relative(dir, p)] = e.isDirectory() ? `d ${mode}` : `f ${mode} ${sha(p)}`;
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

export function makeTree(dir: string): void {
  mkdirSync(join(dir, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'plain'), 'plain\n');
  writeFileSync(join(dir, 'sub', 'run.sh'), '#!/bin/sh\necho hi\n');
  writeFileSync(join(dir, 'sub', 'secret'), 'x'.repeat(5000));
  writeFileSync(join(dir, 'sub', 'deep', 'odd name'), "it's\n");
  chmodSync(join(dir, 'plain'), 0o640);
  chmodSync(join(dir, 'sub', 'run.sh'), 0o755);
  chmodSync(join(dir, 'sub', 'secret'), 0o600);
  chmodSync(join(dir, 'sub', 'deep'), 0o710);
  chmodSync(join(dir, 'sub'), 0o750);
}

/** Exit codes, separate streams, words kept whole, -i, no stdin without it, -t. */
export async function execChecks(c: Cli): Promise<void> {
  const x = (words: string[], input?: string, flags: string[] = []) =>
    c.b(['vm', 'exec', c.vm, ...flags, '--', ...words], 60_000, input);
  assert.is((await x(['true'])).code, 0);
  assert.is((await x(['sh', '-c', 'exit 3'])).code, 3);
  assert.is((await x(['sh', '-c', 'exit 255'])).code, 255, "the command's own 255 passes through");
  assert.is((await x(['no-such-command'])).code, 127);
  assert.is((await x(['sh', '-c', 'kill -9 $$'])).code, 137, 'killed by SIGKILL: 128+9');
  const streams = await x(['sh', '-c', 'echo out; echo err >&2; echo "$1"', 'x', "a b'c"]);
  assert.is(streams.stdout, "out\na b'c\n", 'stdout alone, words kept whole');
  assert.is(streams.stderr, 'err\n', 'stderr alone');
  assert.is(ok(await x(['cat'], 'from stdin\n', ['-i']), '-i').stdout, 'from stdin\n');
  assert.is(ok(await x(['cat'], 'not passed\n'), 'no -i').stdout, '', 'no -i: no stdin');
  const tty = ok(await x(['sh', '-c', 'test -t 0 && test -t 1 && tty'], undefined, ['-t']), '-t');
  assert.match(tty.stdout, /\/dev\/pts\/\d+/);
  assert.is((await x(['sh', '-c', 'test -t 1 || echo none'])).stdout, 'none\n');
}

/** A tree in and out with -r (modes and contents equal), single files, --json, no temp dirs left. */
export async function cpTree(c: Cli, guestDir: string): Promise<void> {
  const tree = join(c.work, 'tree');
  makeTree(tree);
  await c.own(tree);
  const g = (p: string) => `${c.vm}:${guestDir}/${p}`;
  fails(await c.b(['vm', 'cp', tree, g('')]), 'E_INVALID_ARGUMENT', 'a directory without -r');
  ok(await c.b(['vm', 'cp', '-r', tree, g('')]), 'cp -r tree in');
  const script = `cd ${guestDir}/tree && find . -mindepth 1 -exec stat -c "%a %n" {} + && ls -a ${guestDir}`;
  const listing = ok(await c.b(['vm', 'exec', c.vm, '--', 'sh', '-c', script]), 'guest find').stdout;
  assert.match(listing, /^750 \.\/sub$/m);
  assert.match(listing, /^600 \.\/sub\/secret$/m);
  assert.match(listing, /^710 \.\/sub\/deep$/m);
  assert.not.match(listing, /\.banger-cp/, 'no temp dir left in the guest');
  const back = join(c.work, 'back');
  mkdirSync(back);
  await c.own(back);
  ok(await c.b(['vm', 'cp', '-r', g('tree'), back]), 'cp -r tree out');
  assert.equal(treeOf(join(back, 'tree')), treeOf(tree), 'same tree, modes and contents, after the round trip');
  assert.equal(readdirSync(back), ['tree'], 'no temp dir left here');
  ok(await c.b(['vm', 'cp', join(tree, 'sub', 'run.sh'), g('renamed')]), 'cp file in');
  ok(await c.b(['vm', 'cp', join(tree, 'plain'), g('renamed')]), 'cp file over a file');
  ok(await c.b(['vm', 'cp', g('renamed'), join(c.work, 'r')]), 'cp file out');
  assert.is(readFileSync(join(c.work, 'r'), 'utf8'), 'plain\n');
  assert.is((statSync(join(c.work, 'r')).mode & 0o777).toString(8), '640');
  await cpForms(c, guestDir, tree);
}

/** Docker's forms: SRC/. copies a directory's contents; a DST/ that does not exist is refused. */
async function cpForms(c: Cli, guestDir: string, tree: string): Promise<void> {
  const g = (p: string) => `${c.vm}:${guestDir}/${p}`;
  ok(await c.b(['vm', 'exec', c.vm, '--', 'mkdir', `${guestDir}/contents`]), 'mkdir contents');
  ok(await c.b(['vm', 'cp', '-r', `${tree}/.`, g('contents')]), 'cp -r DIR/. in');
  const inside = ok(await c.b(['vm', 'exec', c.vm, '--', 'ls', `${guestDir}/contents`]), 'ls').stdout;
  assert.equal(inside.split('\n').filter(Boolean).sort(), ['plain', 'sub'], 'the contents, not the dir');
  const flat = join(c.work, 'flat');
  mkdirSync(flat);
  await c.own(flat);
  ok(await c.b(['vm', 'cp', '-r', `${g('tree')}/.`, flat]), 'cp -r NAME:DIR/. out');
  assert.equal(treeOf(flat), treeOf(tree), 'the contents land in the existing dir');
  fails(await c.b(['vm', 'cp', join(tree, 'plain'), g('nodir/')]), 'E_NOT_FOUND', 'cp in to a missing DIR/');
  fails(await c.b(['vm', 'cp', g('renamed'), join(c.work, 'nodir') + '/']), 'E_NOT_FOUND', 'cp out to a missing DIR/');
  const json = JSON.parse(ok(await c.b(['vm', 'cp', '--json', join(tree, 'plain'), g('')]), 'cp --json').stdout);
  assert.equal([json.direction, json.target], ['in', g('')]);
}

/** "-": a tar stream in from stdin and out to stdout, the tree kept. */
export async function cpStreams(c: Cli, guestDir: string): Promise<void> {
  ok(await c.b(['vm', 'exec', c.vm, '--', 'mkdir', `${guestDir}/streamed`]), 'mkdir');
  ok(await c.sh(`tar -c -C ${c.work} tree | BANGER vm cp - ${c.vm}:${guestDir}/streamed`), 'tar | cp -');
  const stat = ['vm', 'exec', c.vm, '--', 'stat', '-c', '%a', `${guestDir}/streamed/tree/sub/secret`];
  assert.is(ok(await c.b(stat), 'stat').stdout, '600\n');
  const out = join(c.work, 'out');
  mkdirSync(out);
  await c.own(out);
  ok(await c.sh(`BANGER vm cp ${c.vm}:${guestDir}/streamed/tree - | tar -x -C ${out}`), 'cp - | tar');
  assert.equal(treeOf(join(out, 'tree')), treeOf(join(c.work, 'tree')), 'the stream round trip keeps the tree');
}

/** 100 MiB of random bytes in and back out: checksums equal on both sides. */
export async function cpBig(c: Cli, guestDir: string): Promise<void> {
  const big = join(c.work, 'big');
  ok(await run(['dd', 'if=/dev/urandom', `of=${big}`, 'bs=1M', 'count=100', 'status=none']), 'dd');
  await c.own(big);
  const want = sha(big);
  const t0 = Date.now();
  ok(await c.b(['vm', 'cp', big, `${c.vm}:${guestDir}/big`], 300_000), 'cp 100 MiB in');
  c.figures.push(`vm cp 100 MiB in: ${Date.now() - t0} ms`);
  const sum = ok(await c.b(['vm', 'exec', c.vm, '--', 'sha256sum', `${guestDir}/big`], 120_000), 'sha256sum');
  assert.is(sum.stdout.split(' ')[0], want, 'same checksum in the guest');
  const t1 = Date.now();
  ok(await c.b(['vm', 'cp', `${c.vm}:${guestDir}/big`, join(c.work, 'big2')], 300_000), 'cp 100 MiB out');
  c.figures.push(`vm cp 100 MiB out: ${Date.now() - t1} ms`);
  assert.is(sha(join(c.work, 'big2')), want, 'same checksum back here');
  ok(await c.b(['vm', 'exec', c.vm, '--', 'rm', '-f', `${guestDir}/big`]), 'rm big in the guest');
}
