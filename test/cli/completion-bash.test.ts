// The bash completion script in a real bash: load `banger completion bash`, set COMP_WORDS,
// COMP_CWORD, COMP_LINE and COMP_POINT as bash's readline would (words split at
// COMP_WORDBREAKS, so "--image=de" is three words), call the function, read COMPREPLY.
// The banger it calls is this checkout, found on PATH, against a fake engine on the real socket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionEnv, type CompletionEnv } from './completion-env.js';

let ce: CompletionEnv;
let script: string;
test.before(async () => {
  ce = await completionEnv();
  script = await ce.script('bash');
});
test.after(async () => {
  await ce.stop();
});

/** bash's split of the line up to the cursor: blanks separate, = and : are words of their own. */
function bashWords(line: string): string[] {
  const words = line.split(/[ \t]+/).flatMap((w) => w.split(/([=:])/).filter((x) => x !== ''));
  if (/[ \t]$/.test(line) || line === '') words.push('');
  return words;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run the completion function once per line in one bash; COMPREPLY of each, in order. */
function drive(lines: string[]): Promise<string[][]> {
  const calls = lines.map((line) => {
    const words = bashWords(line);
    return [
      `COMP_LINE=${q(line)}; COMP_POINT=${line.length}`,
      `COMP_WORDS=(${words.map(q).join(' ')}); COMP_CWORD=${words.length - 1}`,
      'COMPREPLY=()',
      // complete -F calls the function with: command, the word being completed, the word before it.
      '_banger banger "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
      `printf '%s\\n' "\${COMPREPLY[@]}"; echo '@@'`,
    ].join('\n');
  });
  const program = `${script}\n${calls.join('\n')}\n`;
  return new Promise((resolve, reject) => {
    const sh = spawn('bash', ['--norc', '--noprofile', '-s'], { env: { ...process.env, ...ce.env }, cwd: ce.dir });
    let out = '';
    let err = '';
    sh.stdout.on('data', (d) => (out += d));
    sh.stderr.on('data', (d) => (err += d));
    sh.on('error', reject);
    sh.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bash exited ${code}: ${err}`));
      const chunks = out.split('@@\n');
      resolve(chunks.slice(0, lines.length).map((c) => c.split('\n').filter(Boolean)));
    });
    sh.stdin.end(program);
  });
}

test('the script registers itself for banger', async () => {
  assert.match(script, /^complete -o default -F _banger banger$/m);
  const [reply] = await drive(['banger ']);
  assert.ok(reply!.includes('vm') && reply!.includes('completion'), reply!.join(' '));
});

test('verbs, flags and names as bash would complete them', async () => {
  const cases: [string, string[]][] = [
    ['banger vm st', ['start', 'stop', 'stats']],
    ['banger vm stop --f', ['--force']],
    ['banger vm start ', ['db']],
    ['banger vm stop ', ['api']],
    ['banger vm show a', ['api']],
    ['banger vm create web --image ', ['default', 'debian']],
    // bash's current word is what follows "=": the reply must not repeat "--image=".
    ['banger vm create web --image=deb', ['debian']],
    ['banger vm create web --image=', ['default', 'debian']],
    // ... and after ":", likewise.
    ['banger image build x --from debian:', ['bookworm']],
    ['banger completion ', ['bash', 'zsh', 'fish']],
    ['banger vm ssh api -- ', []],
  ];
  const replies = await drive(cases.map(([line]) => line));
  cases.forEach(([line, want], i) => assert.equal(replies[i], want, line));
});

test('--mount offers directories only, after a blank or an "="', async () => {
  mkdirSync(join(ce.dir, 'srcdir'), { recursive: true });
  writeFileSync(join(ce.dir, 'srcfile'), '');
  const cases: [string, string[]][] = [
    ['banger vm create web --mount sr', ['srcdir']],
    ['banger vm create web --mount=sr', ['srcdir']],
  ];
  const replies = await drive(cases.map(([line]) => line));
  cases.forEach(([line, want], i) => assert.equal(replies[i]!.sort(), want, line));
});

test.run();
