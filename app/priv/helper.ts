// banger's privileged entry point: run by sudo for a non-root engine (the sudoers drop-in
// names only this file). Installed root-owned by `banger setup sudoers --apply` as
// DIR/banger-priv (a two-line launcher) + DIR/lib/*.js; policies in DIR/users/USER.json.
// `banger-priv VERB ARGS...`: checks, then runs exactly one kind of host change; a refusal
// exits 2 with one line ending in [E_PRIV_REFUSED] and changes nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadPolicy, Refusal } from './policy.js';
import { plan, type Action } from './verbs.js';

export const REFUSED_CODE = 'E_PRIV_REFUSED';
export const REFUSED_EXIT = 2;
/** Host tools from root's own dirs only, whatever PATH the caller had. */
const SAFE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

function execute(a: Action): number {
  if ('run' in a) {
    a.run();
    return 0;
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
export function run(dir: string, argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  try {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Refusal('not running as root');
    const who = invoker(env);
    const policy = loadPolicy(dir, who.user, who.uid);
    const [verb = '', ...args] = argv;
    const input = verb === 'nft-apply' ? readFileSync(0, 'utf8') : undefined;
    const actions = plan(policy, verb, args, input); // every check before the first change
    if (verb === 'check') process.stdout.write(`banger-priv ok: ${who.user} ${policy.bridges.join(',')}\n`);
    for (const a of actions) {
      const code = execute(a);
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
  process.exitCode = run(dir, argv);
}
