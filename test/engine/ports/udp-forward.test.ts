// The UDP forwarder and the port checks on real loopback sockets: an echo through it with a
// flow per client and the idle timeout; the set of a VM's listeners all-or-nothing; a bind's
// failure as E_PORT_TAKEN / E_INVALID_PORT; privileged ports and clashes with other VMs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { UdpForward } from '../../../app/engine/ports/udp-forward.js';
import { PortForwards } from '../../../app/engine/ports/forwards.js';
import { probeFree, refusePrivileged, refuseStoreClash } from '../../../app/engine/ports/checks.js';
import { parsePortSpec } from '../../../app/contract/port-spec.js';
import { BangerError } from '../../../app/base/errors.js';
import { nullLogger } from '../../../app/base/log.js';
import type { VmRecord } from '../../../app/contract/api.js';

const LO = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function udp(port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(port, LO, () => r()));
  return s;
}
const portOf = (s: Socket) => s.address().port;

function reply(s: Socket, ms = 1000): Promise<string | null> {
  return new Promise((r) => {
    const t = setTimeout(() => r(null), ms);
    s.once('message', (m) => {
      clearTimeout(t);
      r(m.toString());
    });
  });
}

/** A free port on loopback (bound and closed again). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, LO, r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.instance(err, BangerError);
    return (err as BangerError).code;
  }
  return 'none';
}

test('UDP echo: each client its own flow and its own replies; idle flows end', async () => {
  const g = await udp();
  const seen = new Set<number>();
  g.on('message', (m, from) => {
    seen.add(from.port);
    g.send(`echo ${m}`, from.port, from.address);
  });
  const port = await freePort();
  const f = new UdpForward({ addr: LO, port, target: () => ({ host: LO, port: portOf(g) }), idleMs: 150 });
  await f.listen();
  const [a, b] = [await udp(), await udp()];
  for (const [c, word] of [
    [a, 'one'],
    [b, 'two'],
    [a, 'three'],
  ] as const) {
    const r = reply(c);
    c.send(word, port, LO);
    assert.is(await r, `echo ${word}`);
  }
  assert.is(f.flowCount, 2, 'one flow per client');
  assert.is(seen.size, 2, 'the guest sees one source port per client');
  await sleep(400);
  assert.is(f.flowCount, 0, 'idle flows ended');
  const r = reply(a);
  a.send('again', port, LO);
  assert.is(await r, 'echo again', 'a new flow after the idle timeout');
  await f.close();
  for (const s of [a, b, g]) s.close();
});

test('UDP: past maxFlows the least recently used flow goes (a flood of source ports cannot exhaust descriptors)', async () => {
  const g = await udp();
  g.on('message', (m, from) => g.send(m, from.port, from.address));
  const port = await freePort();
  const f = new UdpForward({ addr: LO, port, target: () => ({ host: LO, port: portOf(g) }), maxFlows: 2 });
  await f.listen();
  const clients = [await udp(), await udp(), await udp()];
  for (const c of clients) {
    const r = reply(c);
    c.send('x', port, LO);
    assert.is(await r, 'x');
  }
  assert.is(f.flowCount, 2);
  await f.close();
  for (const s of [...clients, g]) s.close();
});

test('UDP: no guest listening, or the VM not running: no reply, no crash, the flow ends', async () => {
  const port = await freePort();
  const dead = await freePort();
  let running = true;
  const f = new UdpForward({ addr: LO, port, target: () => (running ? { host: LO, port: dead } : null) });
  await f.listen();
  const c = await udp();
  const r = reply(c, 300);
  c.send('hello?', port, LO);
  assert.is(await r, null);
  await sleep(100);
  assert.is(f.flowCount, 0, 'the port-unreachable ended the flow');
  running = false;
  c.send('hello?', port, LO);
  await sleep(50);
  assert.is(f.flowCount, 0);
  await f.close();
  c.close();
});

test('PortForwards: all or nothing; a taken port is E_PORT_TAKEN and what this call opened is closed', async () => {
  const fw = new PortForwards({ guestIp: () => LO, logger: nullLogger });
  const [p1, p2] = [await freePort(), await freePort()];
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(p2, LO, r));
  const specs = [parsePortSpec(`${p1}:80`), parsePortSpec(`${p2}:80`)];
  assert.is(await codeOf(fw.open('vm1', specs)), 'E_PORT_TAKEN');
  assert.equal(fw.openFor('vm1'), []);
  await probeFree([specs[0]]); // p1 is free again
  assert.is(await codeOf(probeFree(specs)), 'E_PORT_TAKEN', 'the probe says so too');
  await new Promise((r) => holder.close(r));
  await fw.open('vm1', specs);
  assert.equal(fw.openFor('vm1'), [`127.0.0.1:${p1}:80/tcp`, `127.0.0.1:${p2}:80/tcp`]);
  await fw.open('vm1', specs); // already open: nothing to do
  assert.is(await codeOf(probeFree([specs[0]])), 'E_PORT_TAKEN', 'an open port is held');
  const failed = await new PortForwards({ guestIp: () => null, logger: nullLogger }).openEach('vm2', specs);
  assert.is(failed.length, 2, 'openEach reports each port it could not open');
  await fw.close('vm1', [specs[0]]);
  assert.equal(fw.openFor('vm1'), [`127.0.0.1:${p2}:80/tcp`]);
  await fw.closeAll();
  assert.equal(fw.openFor('vm1'), []);
  await probeFree(specs);
});

test('an address this host does not have is E_INVALID_PORT (the bind fails locally; nothing is sent)', async () => {
  assert.is(await codeOf(probeFree([parsePortSpec('192.0.2.1:18080:80')])), 'E_INVALID_PORT');
});

test('below ip_unprivileged_port_start, not root: E_PORT_PRIVILEGED naming the sysctl', async () => {
  const low = [parsePortSpec('80:80')];
  refusePrivileged(low, 0, 1024);
  refusePrivileged([parsePortSpec('1024:80')], 1000, 1024);
  refusePrivileged(low, 1000, 0);
  try {
    refusePrivileged(low, 1000, 1024);
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_PORT_PRIVILEGED');
    assert.match((err as Error).message, /ip_unprivileged_port_start/);
  }
});

test('another VM publishing the same host socket: E_PORT_TAKEN naming it, whatever its state', async () => {
  const vm = (id: string, name: string, ports: string[]) =>
    ({ id, name, state: 'stopped', ports: ports.map(parsePortSpec) }) as unknown as VmRecord;
  const vms = [vm('a', 'web', ['8080:80']), vm('b', 'dns', ['0.0.0.0:5353:53/udp'])];
  refuseStoreClash(vms, null, [parsePortSpec('8081:80'), parsePortSpec('8080:80/udp')]);
  refuseStoreClash(vms, 'a', [parsePortSpec('8080:81')]); // its own, replaced
  try {
    refuseStoreClash(vms, null, [parsePortSpec('127.0.0.5:5353:53/udp')]);
    assert.unreachable();
  } catch (err) {
    assert.is((err as BangerError).code, 'E_PORT_TAKEN');
    assert.match((err as Error).message, /VM "dns"/);
  }
});

test.run();
