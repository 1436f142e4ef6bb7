// Shared by the OCI import tests.
import * as assert from 'uvu/assert';
import type { ProcessRunner } from '../../../../app/base/process.js';
import { BangerError } from '../../../../app/base/errors.js';

/** The real runner, with skopeo (the one that talks to the registry) run inside its namespace. */
export function inNetns(runner: ProcessRunner, name: string, extraEnv: Record<string, string> = {}): ProcessRunner {
  return new Proxy(runner, {
    get(t, k) {
      if (k === 'run')
        return (argv: string[], o: Parameters<ProcessRunner['run']>[1] = {}) =>
          argv[0] === 'skopeo'
            ? t.run(['ip', 'netns', 'exec', name, ...argv], { ...o, env: { ...extraEnv, ...o?.env } })
            : t.run(argv, o);
      return Reflect.get(t, k);
    },
  });
}

export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    return (err as BangerError).code;
  }
  throw new Error('expected a BangerError');
}
