// test-run: group guest-b (boots a QEMU guest under TCG: one guest per lane, lanes guest and guest-b, so each keeps a core)
// vm exec and vm cp on a real QEMU busybox guest, as root, inside a throwaway network namespace,
// one boot for every assertion: exit codes and separate streams, -i stdin, -t a terminal, one
// ssh master reused; cp both ways of a tree (modes equal) and of a 100 MiB file (checksums
// equal), "-" tar streams, DIR/. and DST/ (the checks in exec-checks.ts); bad input (missing VM, stopped VM, missing path, both or neither
// side remote, a guest whose ssh port refuses) each with its code and exit 125.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { resolvePaths, vmPaths } from '../../app/base/paths.js';
import type { VmRecord } from '../../app/contract/api.js';
import { controlPathFor } from '../../app/cli/exec.js';
import { firstReason, missingReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { banger, json, killByEnv, Netns, readOr, ROOT, run, waitFor, ok, qemuEnv } from './harness.js';
import { cpBig, cpStreams, cpTree, execChecks, fails, type Cli } from './exec-checks.js';
import { debKernel } from './deb-kernel.js';

const missing = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['ssh', 'openssh-client'],
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['setsid', 'util-linux'],
  ['apt-get', 'apt'],
]
  .filter(([bin]) => !which(bin, `${process.env.PATH}:/usr/sbin:/sbin`))
  .map(([bin, pkg]) => `${bin} (${pkg})`);
const skip = firstReason(missingReason(missing), NEEDS_ROOT);
const e2e = runIf(test, skip);
const NS = `banger-exec-${process.pid}`;
const figures: string[] = [];

type B = Cli['b'];

/** The CLI inside the namespace behind a shell pipeline (tar streams are bytes, not strings). */
function shellWith(ns: Netns, env: Record<string, string>) {
  const cli = `setsid -w ${process.execPath} --import tsx ${join(ROOT, 'app', 'main.ts')}`;
  return (script: string, timeoutMs = 120_000) =>
    run(ns.exec(['sh', '-c', script.replaceAll('BANGER', cli)]), { env, timeoutMs });
}

/**
 * Parallel first execs: one starts the master and uses it, the others go alone (dropbear can
 * cut a session short while others on its connection end: see takeSession in app/cli/exec.ts).
 */
async function parallelFirst(b: B): Promise<void> {
  const first = await Promise.all([1, 2, 3, 4].map((i) => b(['vm', 'exec', 'g', '--', 'echo', String(i)])));
  first.forEach((r, i) => assert.is(ok(r, `parallel exec ${i + 1}`).stdout, `${i + 1}\n`));
}

/** No setuid file reaches this host from a guest. */
async function noSuid(b: B, work: string): Promise<void> {
  ok(await b(['vm', 'exec', 'g', '--', 'sh', '-c', 'cp /bin/busybox /root/suid && chmod 4755 /root/suid']), 'suid');
  ok(await b(['vm', 'cp', 'g:/root/suid', join(work, 'suid')]), 'cp suid out');
  assert.is((statSync(join(work, 'suid')).mode & 0o7777).toString(8), '755', 'setuid dropped');
}

async function badInput(b: B, ns: Netns, work: string, cp: string, ip: string): Promise<void> {
  fails(await b(['vm', 'exec', 'nosuch', '--', 'true']), 'E_NOT_FOUND', 'exec: missing VM');
  fails(await b(['vm', 'exec', 'off', '--', 'true']), 'E_INVALID_STATE', 'exec: stopped VM');
  fails(await b(['vm', 'cp', 'nosuch:/etc/hostname', work]), 'E_NOT_FOUND', 'cp: missing VM');
  fails(await b(['vm', 'cp', 'off:/etc/hostname', work]), 'E_INVALID_STATE', 'cp: stopped VM');
  fails(await b(['vm', 'cp', join(work, 'nope'), 'g:/root/']), 'E_NOT_FOUND', 'cp: missing local path');
  fails(await b(['vm', 'cp', 'g:/a', 'g:/b']), 'E_INVALID_ARGUMENT', 'cp: both remote');
  fails(await b(['vm', 'cp', work, join(work, 'x')]), 'E_INVALID_ARGUMENT', 'cp: neither remote');
  fails(await b(['vm', 'cp', 'g:/no/such', work]), 'E_NOT_FOUND', 'cp: missing guest path');
  fails(await b(['vm', 'cp', join(work, 'tree', 'plain'), 'g:/no/such/x']), 'E_NOT_FOUND', 'cp: missing guest dir');
  fails(await b(['vm', 'cp', 'g:/etc/hostname', join(work, 'no', 'x')]), 'E_NOT_FOUND', 'cp: missing local dir');
  assert.not.ok(existsSync(join(work, 'no')));
  // ssh refused: the master is gone and port 22 rejects (in the test's namespace only).
  await run(ns.exec(['ssh', '-o', `ControlPath=${cp}`, '-O', 'exit', 'root@' + ip]));
  const nft = ['nft', '-f', '-'];
  const rules =
    'table inet exectest {\n chain out {\n type filter hook output priority 0;\n tcp dport 22 reject with tcp reset\n }\n}\n';
  ok(await run(ns.exec(nft), { input: rules }), 'nft reject');
  const refused = await b(['vm', 'exec', 'g', '--', 'true']);
  fails(refused, 'E_UNREACHABLE', 'exec: ssh refused');
  assert.is.not(refused.code, 255);
  fails(await b(['vm', 'cp', join(work, 'tree', 'plain'), 'g:/root/']), 'E_UNREACHABLE', 'cp: ssh refused');
  ok(await run(ns.exec(['nft', 'delete', 'table', 'inet', 'exectest'])), 'nft delete');
  ok(await b(['vm', 'exec', 'g', '--', 'true']), 'reachable again');
}

e2e('vm exec and vm cp on a real QEMU guest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'banger-exec-'));
  const base = qemuEnv(root, 'exec');
  const paths = resolvePaths(base);
  const work = join(root, 'work');
  mkdirSync(work);
  let ns: Netns | null = null;
  try {
    const build = { ...base, BANGER_NETWORK: 'none', BANGER_DNS_ADDR: '127.0.0.1:0' };
    ok(await banger(null, ['image', 'build', 'bb', '--from', 'busybox'], build, 180_000), 'image build');
    await debKernel((args, ms) => banger(null, args, build, ms)); // fetched once, then cached
    ok(await banger(null, ['engine', 'stop'], build), 'engine stop (build engine)');

    ns = await Netns.create(NS);
    const env = { ...base, BANGER_NETWORK: 'bridge', BANGER_DNS_ADDR: '127.0.0.1:10053' };
    const b: B = (args, timeoutMs = 60_000, input) =>
      input === undefined ? banger(ns, args, env, timeoutMs) : bangerInput(ns!, args, env, timeoutMs, input);
    ok(await b(['vm', 'create', 'off']), 'vm create off');
    const vm = json<VmRecord>(
      ok(await b(['vm', 'create', 'g', '--memory', '256', '--start', '--json'], 90_000), 'create g'),
      'g',
    );
    const log = vmPaths(paths, vm.id).consoleLog;
    await waitFor('BANGER_READY', () => (/BANGER_READY/.test(readOr(log)) ? true : null), 120_000, 200);

    const c: Cli = { vm: 'g', b, sh: shellWith(ns, env), work, own: async () => undefined, figures };
    const t0 = Date.now();
    await parallelFirst(b);
    await execChecks(c);
    figures.push(`exec checks (15 execs): ${Date.now() - t0} ms`);
    const cp = controlPathFor(paths.runtimeDir, vm.id, vm.ip!);
    assert.ok(existsSync(cp), 'one control socket for the VM');
    assert.is(statSync(join(paths.runtimeDir, 'ssh')).mode & 0o777, 0o700, 'the socket dir is owner-only');
    const masters = (await run(['pgrep', '-f', `ControlPath=${cp}`])).stdout.trim().split('\n').filter(Boolean);
    assert.is(masters.length, 1, `one master ssh for all execs: ${masters.join(' ')}`);

    await cpTree(c, '/root');
    await noSuid(b, work);
    await cpStreams(c, '/root');
    await cpBig(c, '/root');
    await badInput(b, ns, work, cp, vm.ip!);
    ok(await b(['engine', 'stop', '--stop-vms'], 60_000), 'engine stop');
    assert.not.ok(existsSync(cp), 'the master closed with its VM: no socket left');
    assert.is((await run(['pgrep', '-f', `ControlPath=${cp}`])).stdout.trim(), '', 'no master left');
  } finally {
    if (ns) await ns.destroy();
    const stray = killByEnv(`BANGER_BUILD_ID=${base.BANGER_BUILD_ID}`);
    if (stray.length) console.log(`e2e qemu-exec: killed stray processes ${stray.join(' ')}`);
    rmSync(root, { recursive: true, force: true });
    for (const f of figures) console.log(`e2e qemu-exec: ${f}`);
  }
});

function bangerInput(ns: Netns, args: string[], env: Record<string, string>, timeoutMs: number, input: string) {
  const argv = ['setsid', '-w', process.execPath, '--import', 'tsx', join(ROOT, 'app', 'main.ts'), ...args];
  return run(ns.exec(argv), { env: { ...env }, timeoutMs, input });
}

if (!skip)
  test.before(async () => {
    await run(['ip', 'netns', 'delete', NS]).catch(() => undefined);
  });

test.run();
