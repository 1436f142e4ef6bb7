// Host-integration text and plans: exact file contents, and what a runner is asked to do,
// including the undo when a step fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RESOLVED_DROPIN_PATH,
  RESOLVED_NTA_PATH,
  applyResolvedSetup,
  dnsmasqLine,
  planResolvedSetup,
  resolvedDropIn,
  resolvedNegativeAnchor,
  resolvectlCommands,
  removeResolvedSetup,
  type Runner,
} from '../../app/dns/setup.js';
import { BangerError } from '../../app/base/errors.js';

test('resolved drop-in, trust anchor, dnsmasq line: exact text', () => {
  assert.is(RESOLVED_DROPIN_PATH, '/etc/systemd/resolved.conf.d/banger.conf');
  assert.is(RESOLVED_NTA_PATH, '/etc/dnssec-trust-anchors.d/banger.negative');
  assert.ok(resolvedDropIn().endsWith('[Resolve]\nDNS=127.0.0.1:42069\nDomains=~vm\n'));
  assert.ok(
    resolvedDropIn({ zone: 'lab', address: '::1', port: 5353 }).endsWith('[Resolve]\nDNS=[::1]:5353\nDomains=~lab\n'),
  );
  assert.ok(resolvedNegativeAnchor().endsWith('\nvm\n'));
  assert.is(dnsmasqLine(), 'server=/vm/127.0.0.1#42069');
  assert.is(dnsmasqLine({ zone: 'lab', port: 5300 }), 'server=/lab/127.0.0.1#5300');
  assert.equal(resolvectlCommands('banger0')[0], ['resolvectl', 'dns', 'banger0', '127.0.0.1:42069']);
  assert.throws(
    () => dnsmasqLine({ zone: 'x.local' }),
    (e: unknown) => e instanceof BangerError && e.code === 'E_INVALID_ARGUMENT',
  );
  assert.throws(() => resolvedDropIn({ port: 0 }), /invalid DNS port/);
});

test('apply runs the plan in order, privileged, with the file text as input', async () => {
  const calls: { argv: string[]; input?: string; privileged?: boolean }[] = [];
  const run: Runner = async (argv, o) => {
    calls.push({ argv, ...o });
  };
  await applyResolvedSetup(run);
  assert.equal(
    calls.map((c) => c.argv),
    planResolvedSetup().map((s) => s.argv),
  );
  assert.ok(calls.every((c) => c.privileged));
  assert.equal(calls[1], { argv: ['tee', RESOLVED_DROPIN_PATH], input: resolvedDropIn(), privileged: true });
  assert.equal(calls[3]!.input, resolvedNegativeAnchor());
  assert.equal(calls[4]!.argv, ['systemctl', 'restart', 'systemd-resolved']);
});

test('a failing step removes what was written and reports the step', async () => {
  const calls: string[][] = [];
  const run: Runner = async (argv) => {
    calls.push(argv);
    if (argv[0] === 'systemctl' && calls.length === 5) throw new Error('unit not found');
  };
  try {
    await applyResolvedSetup(run);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BangerError);
    assert.is((e as BangerError).code, 'E_COMMAND_FAILED');
    assert.match(
      (e as Error).message,
      /could not load the new configuration: systemctl restart systemd-resolved failed: unit not found/,
    );
  }
  assert.equal(calls[5], ['rm', '-f', RESOLVED_DROPIN_PATH, RESOLVED_NTA_PATH], 'undo ran');
  const removal: string[][] = [];
  await removeResolvedSetup(async (argv) => {
    removal.push(argv);
  });
  assert.is(removal.length, 2);
});

test('bad input runs nothing', async () => {
  let ran = 0;
  try {
    await applyResolvedSetup(
      async () => {
        ran++;
      },
      { zone: 'bad zone' },
    );
    assert.unreachable();
  } catch (e) {
    assert.is((e as BangerError).code, 'E_INVALID_ARGUMENT');
  }
  assert.is(ran, 0);
});

test.run();
