// The busybox image's wget wrapper (assets/guest/busybox/wget) with the real busybox-static:
// bare `busybox wget -T N` segfaults (Debian builds it without the timeout feature), the
// wrapper fetches and times out instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRunner } from '../../../app/engine/process.js';
import { REPO } from './helpers.js';

const WRAPPER = join(REPO, 'assets', 'guest', 'busybox', 'wget');
const hasBusybox = existsSync('/bin/busybox');
const runner = createRunner();
// No proxy variables: straight to the loopback server.
const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', http_proxy: '', HTTP_PROXY: '', no_proxy: '*' };

(hasBusybox ? test : test.skip)(
  'wget -T N: busybox crashes, the wrapper fetches, and gives up after N seconds',
  async () => {
    const srv = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.end('hello from vm1\n');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const bare = await runner.run(['/bin/busybox', 'wget', '-q', '-T', '5', '-O-', `${url}/`], {
        reject: false,
        env,
      });
      assert.is(bare.exitCode, -1, 'the bug the wrapper is for: killed by SIGSEGV (no exit code)');
      for (const t of [['-T', '5'], ['-T5']]) {
        const r = await runner.run(['sh', WRAPPER, '-q', ...t, '-O-', `${url}/`], { reject: false, env });
        assert.is(r.exitCode, 0, `${t.join(' ')}: ${r.stderr}`);
        assert.is(r.stdout, 'hello from vm1\n');
      }
      const start = Date.now();
      const slow = await runner.run(['sh', WRAPPER, '-q', '-T', '1', '-O-', `${url}/slow`], { reject: false, env });
      assert.is.not(slow.exitCode, 0);
      assert.ok(Date.now() - start < 5000, 'timed out after about 1 s');
      const plain = await runner.run(['sh', WRAPPER, '-q', '-O-', `${url}/`], { reject: false, env });
      assert.is(plain.stdout, 'hello from vm1\n', 'without -T it is plain busybox wget');
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  },
);

test.run();
