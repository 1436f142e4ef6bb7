import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { FirecrackerApiError, FirecrackerClient } from '../../../app/engine/firecracker/client.js';
import { kill, startSim, tempDir } from '../../fixtures/firecracker-sim-harness.js';

test('fault_message and {"error"} surface as E_VMM FirecrackerApiError', async () => {
  const sim = await startSim();
  const c = new FirecrackerClient(sim.sock);
  try {
    const e = await c.putMachineConfig({ vcpu_count: 0, mem_size_mib: 128 }).catch((x) => x);
    assert.instance(e, FirecrackerApiError);
    assert.is(e.code, 'E_VMM');
    assert.is(e.status, 400);
    assert.match(e.faultMessage, 'vCPU number is invalid');
    assert.equal(e.details.faultMessage, e.faultMessage);
    assert.match(e.message, 'PUT /machine-config');
    const big = await c.putBootSource({ kernel_image_path: 'x'.repeat(60_000) }).catch((x) => x);
    assert.instance(big, FirecrackerApiError);
    assert.match(big.faultMessage, 'larger than the limit of 51200');
    // The connection was dropped by the server: the next call still works.
    assert.equal(await c.getInstanceInfo(), {
      id: 'anonymous-instance',
      state: 'Not started',
      vmm_version: '1.16.1',
      app_name: 'Firecracker',
    });
    assert.is((await c.getVersion()).firecracker_version, '1.16.1');
    assert.is((await c.getMachineConfig()).vcpu_count, 1);
    const pre = await c.sendCtrlAltDel().catch((x) => x);
    assert.is(pre.faultMessage, 'The requested operation is not supported before starting the microVM.');
    assert.is((await c.patchVm('Paused').catch((x) => x)).faultMessage, pre.faultMessage);
    assert.is((await c.flushMetrics().catch((x) => x)).faultMessage, pre.faultMessage);
  } finally {
    c.close();
    kill(sim.proc);
  }
});

test('no socket, and a VMM that never answers: E_VMM within the timeout', async () => {
  const dir = tempDir();
  const none = new FirecrackerClient(join(dir, 'absent.sock'));
  const e = await none.getInstanceInfo().catch((x) => x);
  assert.instance(e, FirecrackerApiError);
  assert.match(e.message, 'no API socket');

  const sock = join(dir, 'mute.sock');
  const server = net.createServer(() => {
    /* accept, never answer */
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const c = new FirecrackerClient(sock, { timeoutMs: 150 });
  try {
    const t0 = Date.now();
    const err = await c.putLogger({ level: 'Info' }).catch((x) => x);
    const took = Date.now() - t0;
    assert.instance(err, FirecrackerApiError);
    assert.match(err.message, 'did not answer PUT /logger within 150 ms');
    assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
  } finally {
    c.close();
    server.close();
  }
});

test('requests are serialized: one in flight at a time, in call order', async () => {
  const sock = join(tempDir(), 'slow.sock');
  let inFlight = 0;
  let maxInFlight = 0;
  const order: string[] = [];
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    order.push(req.url!);
    req.resume();
    setTimeout(() => {
      inFlight--;
      res.writeHead(204);
      res.end();
    }, 15);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const c = new FirecrackerClient(sock);
  try {
    await Promise.all([
      c.putLogger({ level: 'Info' }),
      c.putMetrics({ metrics_path: '/m' }),
      c.putMachineConfig({ vcpu_count: 1, mem_size_mib: 1 }),
      c.putBootSource({ kernel_image_path: '/k' }),
      c.instanceStart(),
    ]);
    assert.is(maxInFlight, 1);
    assert.equal(order, ['/logger', '/metrics', '/machine-config', '/boot-source', '/actions']);
  } finally {
    c.close();
    server.close();
  }
});

test('a failed call does not block the ones queued after it', async () => {
  const sim = await startSim();
  const c = new FirecrackerClient(sim.sock);
  try {
    const [a, b] = await Promise.allSettled([c.putMetrics({ metrics_path: '/nonexistent/m' }), c.getInstanceInfo()]);
    assert.is(a.status, 'rejected');
    assert.is(b.status, 'fulfilled');
  } finally {
    c.close();
    kill(sim.proc);
  }
});

test.run();
