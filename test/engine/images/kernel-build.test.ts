// Two `kernel build`s share one source tree and one O= object dir: the second must wait (and
// be cancellable while it waits). The real build takes minutes, so the runner stops each
// build at its first command (apt-cache), which is held until the test lets it go.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { missingReason, runIf } from '../../helpers/skip.js';
import { readdirSync, readFileSync } from 'node:fs';
import { KernelService } from '../../../app/engine/images/kernel-service.js';
import { missingBuildTools } from '../../../app/engine/images/kernel-build.js';
import type { ProcessRunner } from '../../../app/base/process.js';
import { BangerError } from '../../../app/base/errors.js';
import { makeEnv, type Env } from './helpers.js';

let env: Env;
test.before(() => {
  env = makeEnv();
});
test.after(() => env.cleanup());

async function until(fn: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    return (err as BangerError).code;
  }
  throw new Error('expected a BangerError');
}

runIf(test, missingReason(missingBuildTools()))(
  'a second kernel build waits for the first, can be cancelled while waiting, and the queue goes on',
  async () => {
    const real = env.runner;
    const started: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const runner: ProcessRunner = {
      ...real,
      isRoot: real.isRoot,
      async run(argv, opts) {
        if (argv[0] === 'apt-cache' && argv.includes('linux-source')) {
          started.push(argv.join(' '));
          await Promise.race([
            gate,
            new Promise((_r, reject) =>
              opts?.signal?.addEventListener('abort', () => reject(new BangerError('E_CANCELLED', 'cancelled'))),
            ),
          ]);
          throw new Error('stopped by the test before any real work');
        }
        return real.run(argv, opts);
      },
    };
    const svc = new KernelService({ ...env.deps, runner });
    const phase = (name: string) => env.progress.filter((p) => p.name === name).map((p) => p.phase);

    const a = svc.build('ka');
    await until(() => started.length === 1, 'the first build to start');
    const b = svc.build('kb');
    const c = svc.build('kc');
    await until(
      () =>
        phase('kb').includes('waiting for another kernel build') &&
        phase('kc').includes('waiting for another kernel build'),
      'both to queue',
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.is(started.length, 1, 'queued builds run no command while the first holds the tree');

    const bId = svc.listBuilds().find((x) => x.name === 'kb')!.id;
    svc.cancel(bId);
    assert.is(await code(b), 'E_CANCELLED');
    assert.is(svc.listBuilds().find((x) => x.id === bId)!.state, 'cancelled');
    const logPath = svc.listBuilds().find((x) => x.id === bId)!.logPath;
    assert.ok(logPath, 'a queued build keeps a log');
    assert.match(
      readFileSync(logPath, 'utf8'),
      /another kernel build is using .*kernel-build: this one starts when it ends/,
    );
    assert.is(started.length, 1, 'cancelling a waiter does not let the next one in early');

    open();
    assert.is(await code(a), 'E_BUILD_FAILED');
    assert.is(await code(c), 'E_BUILD_FAILED');
    assert.is(started.length, 2, 'kc ran after ka; kb never did');
    assert.equal(env.store.listKernels(), []);
    assert.equal(
      readdirSync(env.paths.buildsDir).filter((f) => f.endsWith('.tmp')),
      [],
      'no work dirs left',
    );
  },
);

test.run();
