// The docs test (run alone: node --import tsx test/run.ts docs/): every `banger ...` command and
// flag in README.md and docs/ exists in the command tree, every config key named is one the code
// accepts and configuration.md is the generated one (so it lists every key), every E_* code
// exists and troubleshooting.md explains each one and each doctor check, every relative link
// and anchor resolves. And the checker itself catches a planted stale flag, key and link.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCodes } from '../../app/base/errors.js';
import { renderConfigDocs } from '../../app/engine/config-docs.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkInvocation, problems, readDocs, ROOT } from './check.js';
import { hostDoctor } from '../../app/entry/doctor.js';
import { KEY_TABLE } from '../../app/screens/keys.js';
import { tmpState } from '../helpers/tmp.js';

const docs = readDocs();

test('README and docs/ match the command tree, the settings, the error codes and themselves', () => {
  assert.equal(problems(docs), []);
});

test('docs/configuration.md is current (regenerate: node --import tsx scripts/config-docs.ts)', () => {
  assert.is(docs.get('docs/configuration.md'), renderConfigDocs());
});

test("README's TUI picture is the one scripts/tui-screenshot.sh captured (docs/tui-screen.txt)", () => {
  const shot = readFileSync(join(ROOT, 'docs', 'tui-screen.txt'), 'utf8').trimEnd();
  const block = /<!-- tui-screen:start[^\n]*-->\n```text\n([\s\S]*?)\n```\n<!-- tui-screen:end -->/.exec(
    docs.get('README.md')!,
  );
  assert.ok(block, 'README has the picture between its markers');
  assert.is(block[1], shot);
  assert.match(shot, /NAME +STATE +IP/, 'it shows the VM table');
});

test('tui.md names every key the TUI footer shows (app/screens/keys.ts)', () => {
  const page = docs.get('docs/tui.md')!;
  for (const b of KEY_TABLE.filter((k) => k.footer)) {
    const names = [b.key, b.display ?? '', ...(b.display ?? '').split('/')].filter(Boolean);
    assert.ok(
      names.some((n) => page.includes(`\`${n}\``)),
      `${b.screen}: ${b.display ?? b.key} (${b.label})`,
    );
  }
});

test('troubleshooting.md explains every E_* code and every doctor check', async () => {
  const page = docs.get('docs/troubleshooting.md') ?? '';
  for (const code of Object.values(ErrorCodes)) assert.ok(page.includes(`\`${code}\``), `${code} explained`);
  const s = tmpState('banger-docs-');
  try {
    const report = await hostDoctor(s.paths, { ...s.env, PATH: process.env.PATH });
    // Checks that only some hosts show (a non-root user's sudo, a jailer's host) are listed too.
    const only = ['sudo', 'privileges', 'backend firecracker', 'backend qemu', 'jailer cgroups', 'jail base'];
    const names = [...report.checks.map((c) => c.name), ...only];
    for (const n of new Set(names)) assert.ok(page.includes(`\`${n}\``), `doctor check "${n}" explained`);
  } finally {
    s.cleanup();
  }
});

test('the checker fails on a planted stale flag, verb, key, variable, code and link', () => {
  const plant = (file: string, text: string) => problems(new Map([...docs, [file, docs.get(file)! + text]]));
  assert.match(plant('README.md', '\n`banger vm create web --cpus 2`\n').join('\n'), /has no flag --cpus/);
  assert.match(plant('docs/cli.md', '\n```sh\nbanger vm frob web\n```\n').join('\n'), /no command "vm frob"/);
  assert.match(plant('docs/dns.md', '\nSet config key `dnsPort`.\n').join('\n'), /no config key "dnsPort"/);
  assert.match(plant('docs/dns.md', '\n`BANGER_DNS_PORT=53`\n').join('\n'), /reads no BANGER_DNS_PORT/);
  assert.match(plant('docs/security.md', '\nFails with `E_NOPE`.\n').join('\n'), /no error code E_NOPE/);
  assert.match(plant('README.md', '\nSee [jailer](docs/jailer.md).\n').join('\n'), /docs\/jailer\.md: no such file/);
  assert.match(plant('README.md', '\nSee [x](docs/dns.md#no-such-part).\n').join('\n'), /no heading #no-such-part/);
  const keyless = new Map(docs);
  keyless.set('docs/configuration.md', docs.get('docs/configuration.md')!.replace(/^\| `subnet` .*\n/m, ''));
  assert.match(problems(keyless).join('\n'), /key subnet missing/);
});

test('an invocation is read as the parser reads it', () => {
  assert.is(checkInvocation(['vm', 'create', 'web', '--start']), null);
  assert.is(checkInvocation(['vm', 'ssh', 'web', '--', 'ls', '--all']), null);
  assert.is(checkInvocation(['--detach']), null);
  assert.match(checkInvocation(['vm', 'stop', 'web', '--now']) ?? '', /no flag --now/);
  assert.match(checkInvocation(['frob']) ?? '', /no command "frob"/);
});

test.run();
