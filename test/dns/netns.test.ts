// The guest-facing listener on a private gateway address, inside a throwaway network namespace
// (never the root namespace): zone answered, other names forwarded to a stand-in upstream for
// allowed sources only, and the loopback listener never forwards. Needs root; skipped otherwise.
import { test as suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { UDP_PATHS, forPath } from './helpers.js';
import { NEEDS_ROOT } from '../helpers/skip.js';

const run = promisify(execFile);
const nsBase = `banger-dnstest-${process.pid}`;
const fixture = fileURLToPath(new URL('./fixtures/netns-gateway.ts', import.meta.url));

for (const path of UDP_PATHS) {
  const { test, udp } = forPath(suite, NEEDS_ROOT ? { ...path, unavailable: NEEDS_ROOT } : path);
  const ns = `${nsBase}-${udp}`;
  test('gateway listener in a netns: answers the zone, forwards for allowFrom only', async () => {
    const ip = (...args: string[]) => run('ip', ['-n', ns, ...args]);
    await run('ip', ['netns', 'add', ns]);
    try {
      await ip('link', 'set', 'lo', 'up');
      await ip('link', 'add', 'gw0', 'type', 'bridge'); // a bridge like banger's own (dummy may not be built)
      for (const a of ['172.30.77.1/24', '172.30.77.10/24', '172.30.77.53/24'])
        await ip('addr', 'add', a, 'dev', 'gw0');
      await ip('link', 'add', 'out0', 'type', 'bridge');
      await ip('addr', 'add', '172.30.78.5/24', 'dev', 'out0');
      await ip('link', 'set', 'gw0', 'up');
      await ip('link', 'set', 'out0', 'up');
      const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture], {
        env: { ...process.env, BANGER_DNS_NETNS_FIXTURE: '1', BANGER_DNS_UDP: udp },
        cwd: process.cwd(),
        timeout: 30_000,
      });
      const r = JSON.parse(stdout.trim().split('\n').pop()!);
      const gw = r.status.listeners[0];
      assert.equal([gw.address, gw.port, gw.up, gw.forwards, gw.udp], ['172.30.77.1', 53, true, true, udp]);
      assert.equal(r.insideZone, { rcode: 'NOERROR', answers: ['172.30.77.2'], aa: true });
      assert.equal(r.insideForward, { rcode: 'NOERROR', answers: ['198.51.100.7'], aa: false });
      assert.equal(r.outsideZone, { rcode: 'NOERROR', answers: ['172.30.77.2'], aa: true });
      assert.equal(r.outsideForward, { rcode: 'REFUSED', answers: [], aa: false });
      assert.equal(r.loopbackForward, { rcode: 'REFUSED', answers: [], aa: false });
      assert.is(r.dig, '198.51.100.7', 'dig through the gateway gets the upstream answer');
      assert.equal(
        r.upstreamSaw,
        ['www.example.org', 'mail.example.net'],
        'only allowed, out-of-zone names went upstream',
      );
      assert.is(r.stats.forwarded, 2);
    } finally {
      await run('ip', ['netns', 'delete', ns]).catch(() => {});
    }
  });
}

suite.run();
