// The slow paths, run only with BANGER_SLOW_TESTS=1: debootstrap (~80-120 s, Debian mirror)
// and a kernel built from Debian's linux-source (~9 min on 2 cores the first time).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstReason, missingReason, runIf, slowReason } from '../../helpers/skip.js';
import { readFileSync } from 'node:fs';
import { ImageService } from '../../../app/engine/images/image-service.js';
import { KernelService } from '../../../app/engine/images/kernel-service.js';
import { missingBuildTools } from '../../../app/engine/images/kernel-build.js';
import { makeEnv, debugfsCat, debugfsStat, type Env } from './helpers.js';

let env: Env;
test.before(() => {
  env = makeEnv();
});
test.after(() => env.cleanup());

runIf(test, slowReason('debootstrap from a Debian mirror, ~100 s'))(
  'debian:bookworm image: systemd wired for banger',
  async () => {
    const t0 = Date.now();
    const rec = await new ImageService(env.deps).build({ name: 'deb', from: 'debian:bookworm' });
    console.log(`  debian:bookworm image built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.is(rec.sizeBytes >= 1024 ** 3, true);
    const link = (p: string) => debugfsStat(env.runner, rec.path, p);
    assert.match(
      await link('/etc/systemd/system/ctrl-alt-del.target'),
      /Fast link dest: "\/lib\/systemd\/system\/reboot\.target"/,
    );
    assert.match(await link('/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service'), /Type: symlink/);
    assert.match(await link('/etc/systemd/system/multi-user.target.wants/banger-ready.service'), /Type: symlink/);
    assert.match(await link('/etc/systemd/system/multi-user.target.wants/ssh.service'), /Type: symlink/);
    assert.match(await link('/etc/systemd/system/multi-user.target.wants/banger-seed.service'), /Type: symlink/);
    assert.match(
      await debugfsCat(env.runner, rec.path, '/etc/systemd/system/banger-ready.service'),
      /After=.*banger-seed\.service/,
      'the seed hook before the ready marker',
    );
    assert.match(
      await debugfsCat(env.runner, rec.path, '/etc/systemd/system/banger-ready.service'),
      /ExecStart=\/etc\/banger\/ready\.sh/,
    );
    assert.is(
      (await debugfsCat(env.runner, rec.path, '/root/.ssh/authorized_keys')).trim(),
      readFileSync(`${env.paths.sshKey}.pub`, 'utf8').trim(),
    );
    assert.match(await link('/usr/sbin/sshd'), /Type: regular/);
    assert.match(await link('/etc/ssh/ssh_host_ed25519_key'), /not found/, 'host keys are made per VM at first boot');
  },
);

runIf(test, firstReason(slowReason('a kernel build, ~8 min'), missingReason(missingBuildTools())))(
  'kernel build from linux-source: an all-built-in ELF vmlinux, no initrd',
  async () => {
    const t0 = Date.now();
    const k = await new KernelService(env.deps).build('tiny');
    console.log(`  kernel built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.is(k.initrdPath, null);
    assert.match(k.version!, /^6\.1\./);
    assert.match((await env.runner.run(['readelf', '-h', k.path])).stdout, /Type:\s+EXEC/);
    const percents = env.progress.filter((p) => p.kind === 'kernel' && p.phase === 'compile').map((p) => p.percent);
    assert.ok(new Set(percents).size > 5, 'compile progress moved');
  },
);

test.run();
