// banger's privileged entry point: run by sudo for a non-root engine (the sudoers drop-in
// names only this file). Installed root-owned by `banger setup sudoers --apply` as
// DIR/banger-priv (a two-line launcher) + DIR/lib/*.js; policies in DIR/users/USER.json.
// `banger-priv VERB ARGS...`: checks, then runs exactly one kind of host change; a refusal
// exits 2 with one line ending in [E_PRIV_REFUSED] and changes nothing.
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { loadPolicy, Refusal } from './policy.js';
import { plan, type Action } from './verbs.js';

export const REFUSED_CODE = 'E_PRIV_REFUSED';
export const REFUSED_EXIT = 2;
/** Host tools from root's own dirs only, whatever PATH the caller had. */
const SAFE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];
/** How long a VMM may take to make its API socket before we take it down again. */
const READY_MS = 30_000;

/**
 * A VMM: started in a session of its own with our stdio (console FIFO in, console log out),
 * and left running once its API socket (`ready`) exists: we exit 0 then, so nothing of ours
 * stays as root beside it. If it exits first, its status is ours; if it never gets there,
 * or we are signalled meanwhile (a cancelled start), it is killed.
 */
function runVmm(argv: string[], ready: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: 'inherit',
      env: { PATH: SAFE_PATH, LC_ALL: 'C' },
      cwd: '/',
      detached: true,
    });
    const deadline = Date.now() + READY_MS;
    let timer: NodeJS.Timeout | undefined;
    const finish = (code: number) => {
      clearTimeout(timer);
      for (const s of FORWARDED) process.off(s, abort);
      child.removeAllListeners('exit');
      resolve(code);
    };
    const abort = () => {
      child.kill('SIGKILL');
      finish(1);
    };
    for (const s of FORWARDED) process.on(s, abort);
    child.once('error', (e) => {
      process.stderr.write(`banger-priv: cannot run ${argv[0]}: ${e.message}\n`);
      finish(127);
    });
    child.once('exit', (code, signal) => finish(code ?? (signal ? 128 : 1)));
    const poll = () => {
      if (lstatSync(ready, { throwIfNoEntry: false })?.isSocket()) {
        child.unref();
        return finish(0);
      }
      if (Date.now() > deadline) {
        process.stderr.write(`banger-priv: ${argv[0]} made no API socket in ${READY_MS / 1000} s: stopped\n`);
        return abort();
      }
      timer = setTimeout(poll, 20);
    };
    poll();
  });
}

function execute(a: Action): number | Promise<number> {
  if ('vmm' in a) return runVmm(a.vmm, a.ready);
  if ('run' in a) {
    const r = a.run();
    return r instanceof Promise ? r.then(() => 0) : 0;
  }
  const r = spawnSync(a.argv[0], a.argv.slice(1), {
    input: a.input,
    cwd: '/', // not the caller's dir: nothing root runs looks there
    env: { PATH: SAFE_PATH, LC_ALL: 'C' },
    stdio: [a.input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'],
  });
  if (r.error) {
    process.stderr.write(`banger-priv: cannot run ${a.argv[0]}: ${r.error.message}\n`);
    return 127;
  }
  return r.status ?? 1;
}

/** Stdin (nft-apply's script) is read up to this, and for this long; more is refused unread. */
export const INPUT_MAX = 8192;
export const INPUT_MS = 5000;

/** The caller's stdin, bounded in size and time: a refusal when it is longer or never ends. */
function readInput(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => stop(new Refusal(`stdin not closed within ${INPUT_MS / 1000} s`)), INPUT_MS);
    const stop = (err: Error | null) => {
      clearTimeout(timer);
      stream.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error');
      (stream as NodeJS.ReadStream).destroy?.();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > INPUT_MAX) return stop(new Refusal(`stdin longer than ${INPUT_MAX} bytes`));
      chunks.push(c);
    });
    stream.once('end', () => stop(null));
    stream.once('error', (e: Error) => stop(e));
  });
}

function invoker(env: NodeJS.ProcessEnv): { user: string; uid: number } {
  // sudo sets these itself (the caller cannot), which is why only sudo may run us.
  const user = env.SUDO_USER ?? '';
  const uid = Number(env.SUDO_UID);
  if (!user || !Number.isInteger(uid) || uid <= 0)
    throw new Refusal('run through sudo by a banger user (SUDO_USER/SUDO_UID missing or root)');
  return { user, uid };
}

/** Entry: dir is where the launcher lives (holds users/). Returns the exit status. */
export async function run(dir: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Refusal('not running as root');
    // Never the caller's umask: what root makes here (the jailer's dirs under the chroot base
    // among them) gets the modes banger expects, whatever the user's shell had.
    process.umask(0o022);
    const who = invoker(env);
    const policy = loadPolicy(dir, who.user, who.uid);
    const [verb = '', ...args] = argv;
    const input = verb === 'nft-apply' ? await readInput() : undefined;
    const actions = plan(policy, verb, args, input, { dir }); // every check before the first change
    if (verb === 'check') process.stdout.write(`banger-priv ok: ${who.user} ${policy.bridges.join(',')}\n`);
    for (const a of actions) {
      const code = await execute(a);
      if (code !== 0) return code;
    }
    return 0;
  } catch (err) {
    if (err instanceof Refusal) {
      process.stderr.write(`banger-priv: refused: ${err.message} [${REFUSED_CODE}]\n`);
      return REFUSED_EXIT;
    }
    process.stderr.write(`banger-priv: ${(err as Error).message}\n`);
    return 1;
  }
}

export function main(dir: string, argv: string[]): void {
  void run(dir, argv).then((code) => {
    process.exitCode = code;
  });
}
