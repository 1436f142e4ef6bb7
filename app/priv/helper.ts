// banger's privileged entry point: run by sudo for a non-root engine (the sudoers drop-in
// names only this file). Installed root-owned by `banger setup sudoers --apply` as
// DIR/banger-priv (a two-line launcher) + DIR/lib/*.js; policies in DIR/users/USER.json.
// `banger-priv VERB ARGS...`: checks, then runs exactly one kind of host change; a refusal
// exits 2 with one line ending in [E_PRIV_REFUSED] and changes nothing.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadPolicy, Refusal } from './policy.js';
import { plan, type Action } from './verbs.js';

export const REFUSED_CODE = 'E_PRIV_REFUSED';
export const REFUSED_EXIT = 2;
/** Host tools from root's own dirs only, whatever PATH the caller had. */
const SAFE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];

/**
 * A VMM: started with our stdio (console FIFO in, console log out) and waited for, signals
 * passed on; its exit status (or signal) becomes ours, so sudo reports what the VMM did.
 */
function runVmm(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: { PATH: SAFE_PATH, LC_ALL: 'C' }, cwd: '/' });
    const relay = (sig: NodeJS.Signals) => child.kill(sig);
    for (const s of FORWARDED) process.on(s, relay);
    child.once('error', (e) => {
      process.stderr.write(`banger-priv: cannot run ${argv[0]}: ${e.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, relay);
      if (signal) {
        process.kill(process.pid, signal); // die the same way (default action restored above)
        return;
      }
      resolve(code ?? 1);
    });
  });
}

function execute(a: Action): number | Promise<number> {
  if ('vmm' in a) return runVmm(a.vmm);
  if ('run' in a) {
    const r = a.run();
    return r instanceof Promise ? r.then(() => 0) : 0;
  }
  const r = spawnSync(a.argv[0], a.argv.slice(1), {
    input: a.input,
    env: { PATH: SAFE_PATH, LC_ALL: 'C' },
    stdio: [a.input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'],
  });
  if (r.error) {
    process.stderr.write(`banger-priv: cannot run ${a.argv[0]}: ${r.error.message}\n`);
    return 127;
  }
  return r.status ?? 1;
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
    const who = invoker(env);
    const policy = loadPolicy(dir, who.user, who.uid);
    const [verb = '', ...args] = argv;
    const input = verb === 'nft-apply' ? readFileSync(0, 'utf8') : undefined;
    const actions = plan(policy, verb, args, input); // every check before the first change
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
