// banger setup ssh: --apply puts one marked Include at the top of ~/.ssh/config (ahead of any
// Host block, where it applies to every host), the real ssh then resolves NAME.vm to root with
// banger's key and known_hosts, a second --apply changes nothing, and --remove gives back the
// user's file byte for byte. Print mode writes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { sshSetup, sshSetupPaths } from '../../app/entry/ssh-setup.js';
import { tmpState } from '../helpers/tmp.js';
import { missingReason, runIf } from '../helpers/skip.js';

const USER_CONFIG = 'Host example\n  User alice\n\nHost *\n  ServerAliveInterval 30\n';

function setup() {
  const s = tmpState('banger-ssh-setup-');
  const home = join(s.root, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'config'), USER_CONFIG);
  return { s, home, sp: sshSetupPaths(s.paths, home) };
}

test('print mode shows both files and writes nothing', () => {
  const { s, home, sp } = setup();
  try {
    const out = sshSetup(s.paths, 'print', home);
    assert.match(out, /Host \*\.vm\n {2}User root\n/);
    assert.match(out, new RegExp(`Include ${sp.include}`));
    assert.match(out, /sudo banger dns setup --apply/);
    assert.not.ok(existsSync(sp.include));
    assert.is(readFileSync(sp.userConfig, 'utf8'), USER_CONFIG);
  } finally {
    s.cleanup();
  }
});

test('--apply: Include first, idempotent; --remove restores the file exactly', () => {
  const { s, home, sp } = setup();
  try {
    sshSetup(s.paths, 'apply', home);
    const once = readFileSync(sp.userConfig, 'utf8');
    assert.ok(once.startsWith('# banger: ssh NAME.vm'), once);
    assert.is(once.split('\n')[1], `Include ${sp.include}`);
    assert.ok(once.endsWith(USER_CONFIG), 'the user’s lines stay, after ours');
    assert.is(statSync(sp.include).mode & 0o777, 0o600);
    sshSetup(s.paths, 'apply', home);
    assert.is(readFileSync(sp.userConfig, 'utf8'), once, 'a second --apply adds nothing');
    sshSetup(s.paths, 'remove', home);
    assert.is(readFileSync(sp.userConfig, 'utf8'), USER_CONFIG);
    assert.not.ok(existsSync(sp.include));
  } finally {
    s.cleanup();
  }
});

test('a zone from config.json names the Host pattern', () => {
  const { s, home, sp } = setup();
  try {
    mkdirSync(s.paths.configDir, { recursive: true });
    writeFileSync(s.paths.configFile, JSON.stringify({ dnsZone: 'lab' }));
    sshSetup(s.paths, 'apply', home);
    assert.match(readFileSync(sp.include, 'utf8'), /^Host \*\.lab$/m);
  } finally {
    s.cleanup();
  }
});

runIf(test, missingReason(which('ssh') ? [] : ['ssh (openssh-client)']))(
  'the real ssh reads it: NAME.vm as root, banger key, banger known_hosts; other hosts untouched',
  () => {
    const { s, home, sp } = setup();
    try {
      sshSetup(s.paths, 'apply', home);
      const g = (host: string) =>
        execFileSync('ssh', ['-G', '-F', sp.userConfig, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const vm = g('web.vm');
      assert.match(vm, /^user root$/m);
      assert.match(vm, new RegExp(`^identityfile ${s.paths.sshKey}$`, 'm'));
      assert.match(vm, new RegExp(`^userknownhostsfile ${sp.knownHosts}$`, 'm'));
      assert.match(vm, /^stricthostkeychecking accept-new$/m);
      assert.match(g('example'), /^user alice$/m, 'the user’s own Host blocks still apply');
      assert.not.match(g('example'), new RegExp(s.paths.sshKey));
    } finally {
      s.cleanup();
    }
  },
);

test.run();
