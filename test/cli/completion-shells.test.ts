// The completion scripts in the real shells: fish through `complete -C LINE` (its own
// non-interactive completion query), zsh and an interactive bash in tmux, TAB pressed as a user would.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionEnv, hasCommand, type CompletionEnv } from './completion-env.js';
import { missingReason, runIf } from '../helpers/skip.js';

const FISH = hasCommand('fish');
const TMUX = hasCommand('tmux');
const ZSH = hasCommand('zsh');
const missing = (tools: [string, boolean][]) => missingReason(tools.filter(([, ok]) => !ok).map(([t]) => t));

let ce: CompletionEnv;
test.before(async () => {
  ce = await completionEnv();
});
test.after(async () => {
  await ce.stop();
});

// Asynchronous: the fake engine answering the names lives in this process.
async function fishComplete(script: string, line: string): Promise<string[]> {
  const file = join(ce.dir, 'banger.fish');
  writeFileSync(file, script);
  const { stdout } = await promisify(execFile)(
    'fish',
    ['--no-config', '-c', `source ${file}; complete -C ${JSON.stringify(line)}`],
    { env: { ...process.env, ...ce.env }, cwd: ce.dir, encoding: 'utf8' },
  );
  return stdout.split('\n').filter(Boolean);
}

runIf(test, missing([['fish', FISH]]))('fish: verbs with descriptions, names, values after ":"', async () => {
  const script = await ce.script('fish');
  assert.equal(
    (await fishComplete(script, 'banger vm st')).map((l) => l.split('\t')[0]),
    ['start', 'stats', 'stop'],
  );
  assert.match((await fishComplete(script, 'banger vm st')).join('\n'), /^stop\tstop a VM/m);
  assert.equal(await fishComplete(script, 'banger vm stop '), ['api\trunning']);
  assert.equal(await fishComplete(script, 'banger image build x --from deb'), ['debian:bookworm']);
  assert.equal(
    await fishComplete(script, 'banger vm create x --image=d'),
    ['--image=debian', '--image=default'],
    'fish sorts',
  );
  // A PATH argument: the directive lets fish fall back to file names.
  assert.equal(await fishComplete(script, `banger image import x ${ce.dir}/banger.fi`), [`${ce.dir}/banger.fish`]);
  // --mount: directories only (directive 16).
  mkdirSync(join(ce.dir, 'fishdir'), { recursive: true });
  writeFileSync(join(ce.dir, 'fishfile'), '');
  const dirs = async (line: string) => (await fishComplete(script, line)).map((l) => l.split('\t')[0]);
  assert.equal(await dirs(`banger vm create x --mount ${ce.dir}/fish`), [`${ce.dir}/fishdir/`]);
});

/** A private tmux server (-L) running an interactive shell; keys typed as a user would. */
class Tmux {
  readonly sock = `banger-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.sock, ...args], { encoding: 'utf8', env: { ...process.env, ...ce.env } });
  }
  start(shell: string, setup: string): void {
    this.tmux('new-session', '-d', '-s', 's', '-x', '200', '-y', '40', shell);
    this.tmux('send-keys', '-t', 's', setup, 'Enter');
  }
  /** Type LINE, press TAB (twice for bash's list), wait until the screen matches. */
  async tab(line: string, want: RegExp, tabs = 1): Promise<string> {
    this.tmux('send-keys', '-t', 's', 'C-u', 'clear', 'Enter');
    this.tmux('send-keys', '-t', 's', line, ...Array<string>(tabs).fill('Tab'));
    const end = Date.now() + 30_000;
    for (;;) {
      const screen = this.tmux('capture-pane', '-t', 's', '-p');
      if (want.test(screen)) return screen;
      if (Date.now() > end) throw new Error(`the shell never showed ${want} for "${line}":\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  stop(): void {
    try {
      this.tmux('kill-server');
    } catch {
      /* gone */
    }
  }
}

runIf(
  test,
  missing([
    ['zsh', ZSH],
    ['tmux', TMUX],
  ]),
)('zsh: TAB in a real zsh lists verbs, completes names and values', async () => {
  writeFileSync(join(ce.dir, '_banger'), await ce.script('zsh'));
  const z = new Tmux();
  z.start(`env ZDOTDIR=${ce.dir} zsh -f`, `fpath=(${ce.dir} $fpath); autoload -U compinit; compinit -u; PS1='%% '`);
  try {
    const list = await z.tab('banger vm st', /stats\s+-- /);
    assert.match(list, /start\s+-- start a VM/);
    assert.match(list, /stop\s+-- stop a VM/);
    await z.tab('banger vm start ', /banger vm start db\s*$/m);
    await z.tab('banger image build x --from debian:b', /--from debian:bookworm\s*$/m);
    await z.tab('banger vm create x --backend=f', /--backend=firecracker\s*$/m);
    mkdirSync(join(ce.dir, 'zshdir'), { recursive: true });
    writeFileSync(join(ce.dir, 'zshfile'), '');
    await z.tab(`banger vm create x --mount ${ce.dir}/zsh`, /--mount \S+\/zshdir\/\s*$/m); // directories only
  } finally {
    z.stop();
  }
});

runIf(test, missing([['tmux', TMUX]]))(
  "bash: TAB in a real interactive bash (readline's own word splitting)",
  async () => {
    writeFileSync(join(ce.dir, 'banger.bash'), await ce.script('bash'));
    const b = new Tmux();
    b.start('bash --norc --noprofile', `source ${ce.dir}/banger.bash; PS1='% '`);
    try {
      await b.tab('banger vm st', /^start +stats +stop\s*$/m, 2);
      await b.tab('banger vm stop ', /banger vm stop api\s*$/m);
      await b.tab('banger vm create x --image=deb', /--image=debian\s*$/m);
      await b.tab('banger image build x --from debian:b', /--from debian:bookworm\s*$/m);
      await b.tab(`banger image import x ${ce.dir}/banger.ba`, /banger\.bash\s*$/m); // file names where a path goes
      mkdirSync(join(ce.dir, 'bashdir'), { recursive: true });
      writeFileSync(join(ce.dir, 'bashfile'), '');
      await b.tab(`banger vm create x --mount ${ce.dir}/bash`, /--mount \S+\/bashdir\/\s*$/m); // directories only
    } finally {
      b.stop();
    }
  },
);

test.run();
