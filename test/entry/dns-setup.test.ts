// banger dns setup: printing needs nothing; --apply and --remove as a normal user are refused
// before anything runs, naming `sudo banger dns setup` (the entry point has no verb for /etc,
// and sudo -n would fail half-way); as root they run the plan.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsSetup } from '../../app/entry/dns-setup.js';
import type { ProcessRunner } from '../../app/base/process.js';
import { tmpState } from '../helpers/tmp.js';

function recorder(isRoot: boolean): { runner: ProcessRunner; ran: string[][] } {
  const ran: string[][] = [];
  const runner = {
    isRoot,
    run: async (argv: string[]) => {
      ran.push(argv);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  } as unknown as ProcessRunner;
  return { runner, ran };
}

test('as a user: print works, --apply and --remove are refused with nothing run', async () => {
  const s = tmpState('banger-dns-setup-');
  try {
    const { runner, ran } = recorder(false);
    assert.match(await dnsSetup(s.paths, runner, 'print'), /server=\/vm\/127\.0\.0\.1#/);
    for (const mode of ['apply', 'remove'] as const) {
      try {
        await dnsSetup(s.paths, runner, mode);
        assert.unreachable(`${mode} as a user`);
      } catch (err) {
        assert.is((err as { code?: string }).code, 'E_SUDO_REQUIRED');
        assert.match((err as Error).message, new RegExp(`sudo banger dns setup --${mode}`));
      }
    }
    assert.equal(ran, []);
  } finally {
    s.cleanup();
  }
});

test('as root: --apply runs the resolved plan', async () => {
  const s = tmpState('banger-dns-setup-');
  try {
    const { runner, ran } = recorder(true);
    await dnsSetup(s.paths, runner, 'apply');
    assert.ok(ran.some((a) => a.join(' ') === 'systemctl restart systemd-resolved'));
  } finally {
    s.cleanup();
  }
});

test.run();
