// The layers' import boundaries (eslint.config.js BOUNDARIES): a planted import across each one
// fails lint, and the same file importing within its bounds passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ESLint } from 'eslint';
import { ROOT } from '../helpers/cli.js';

const eslint = new ESLint({ cwd: ROOT });

/** [file the import is planted in, what it imports] */
const VIOLATIONS: [string, string][] = [
  ['app/base/planted.ts', '../contract/api.js'],
  ['app/base/planted.ts', '../engine/config.js'],
  ['app/contract/planted.ts', '../engine/config.js'],
  ['app/priv/root/planted.ts', '../../base/errors.js'],
  ['app/priv/root/planted.ts', '../install.js'],
  ['app/dns/planted.ts', '../engine/config.js'],
  ['app/engine/planted.ts', '../control/client.js'],
  ['app/engine/planted.ts', '../screens/keys.js'],
  ['app/engine/planted.ts', '../entry/cli.js'],
  ['app/engine/planted.ts', '../priv/install.js'],
  ['app/engine/driver/planted.ts', '../vm/lifecycle.js'],
  ['app/engine/firecracker/planted.ts', '../vm/boot.js'],
  ['app/engine/qemu/planted.ts', '../engine.js'],
  ['app/cli/planted.ts', '../engine/config.js'],
  ['app/control/planted.ts', '../engine/engine.js'],
  ['app/screens/planted.ts', '../engine/store.js'],
  ['app/screens/planted.ts', '../control/client.js'],
  ['app/control/planted.ts', '../cli/context.js'],
  ['app/cli/planted.ts', '../screens/keys.js'],
  ['app/priv/planted.ts', '../entry/cli.js'],
];

async function ruleIds(file: string, src: string): Promise<string[]> {
  const [r] = await eslint.lintText(src, { filePath: `${ROOT}/${file}` });
  return r.messages.map((m) => m.ruleId ?? m.message);
}

for (const [file, spec] of VIOLATIONS) {
  test(`${file} importing ${spec} fails lint`, async () => {
    const ids = await ruleIds(file, `import * as x from '${spec}';\nexport const y = x;\n`);
    assert.ok(ids.includes('import-x/no-restricted-paths'), `got ${JSON.stringify(ids)}`);
  });
}

test('priv/root/ may import no package, only node builtins and ./', async () => {
  const bad = await ruleIds('app/priv/root/planted.ts', `import * as x from 'commander';\nexport const y = x;\n`);
  assert.ok(bad.includes('no-restricted-imports'), `got ${JSON.stringify(bad)}`);
  const ok = `import * as a from 'node:fs';\nimport * as b from './policy.js';\nexport const y = [a, b];\n`;
  assert.equal(await ruleIds('app/priv/root/planted.ts', ok), []);
});

test('imports within the bounds pass', async () => {
  const cases: [string, string][] = [
    ['app/contract/planted.ts', '../base/errors.js'],
    ['app/engine/planted.ts', '../priv/root/policy.js'],
    ['app/engine/firecracker/planted.ts', '../driver/vmm-process.js'],
    ['app/screens/planted.ts', '../contract/api.js'],
    ['app/cli/planted.ts', '../control/client.js'],
  ];
  for (const [file, spec] of cases)
    assert.equal(await ruleIds(file, `import * as x from '${spec}';\nexport const y = x;\n`), [], `${file} -> ${spec}`);
});

test.run();
