// The snapshot verbs and image shell in the CLI dispatcher, with a stub engine: which engine call
// each verb makes, usage errors that call nothing, and image shell's order of operations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineApi, ImageRecord, SnapshotRecord, VmRecord } from '../../app/contract/api.js';
import { cliContext as ctx } from '../helpers/builders.js';
import { runCli } from '../../app/cli/run.js';

const snap = (name: string, parent: string | null = null): SnapshotRecord => ({
  vm: 'dev',
  name,
  backend: 'qemu',
  parent,
  sizeBytes: 3 * 2 ** 20,
  memoryMib: 256,
  vcpus: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
});

test('verbs reach their engine calls; usage errors call nothing', async () => {
  const calls: unknown[][] = [];
  const rec =
    (m: string, out: unknown) =>
    async (...args: unknown[]) => {
      calls.push([m, ...args]);
      return out;
    };
  const vm = { name: 'dev', state: 'paused' } as VmRecord;
  const e: Partial<EngineApi> = {
    pauseVm: rec('pause', vm) as EngineApi['pauseVm'],
    resumeVm: rec('resume', { ...vm, state: 'running' }) as EngineApi['resumeVm'],
    snapshotVm: rec('snapshot', snap('s1')) as EngineApi['snapshotVm'],
    listSnapshots: rec('list', [snap('s1'), snap('s2', 's1')]) as EngineApi['listSnapshots'],
    restoreVm: rec('restore', { ...vm, state: 'running' }) as EngineApi['restoreVm'],
    removeSnapshot: rec('rm', undefined) as EngineApi['removeSnapshot'],
  };
  const c = ctx(e);
  for (const argv of [
    ['vm', 'pause', 'dev'],
    ['vm', 'resume', 'dev'],
    ['vm', 'snapshot', 'dev'],
    ['vm', 'snapshot', 'dev', 's1'],
    ['vm', 'restore', 'dev', 's1'],
    ['vm', 'snapshot', 'rm', 'dev', 's2'],
  ])
    assert.is(await runCli(argv, c), 0, argv.join(' '));
  assert.equal(calls, [
    ['pause', 'dev'],
    ['resume', 'dev'],
    ['snapshot', 'dev', undefined],
    ['snapshot', 'dev', 's1'],
    ['restore', 'dev', 's1'],
    ['rm', 'dev', 's2'],
  ]);
  assert.is(await runCli(['vm', 'snapshots', 'dev'], c), 0);
  assert.match(c.outs.at(-1)!, /s2\s+3M\s+s1/);
  assert.match(c.outs.at(-1)!, /2 snapshots, 6M on disk/);
  calls.length = 0;
  for (const argv of [
    ['vm', 'snapshot', 'dev', 'a', 'b'],
    ['vm', 'restore', 'dev'],
    ['vm', 'snapshot', 'rm', 'dev'],
    ['vm', 'pause'],
  ])
    assert.is(await runCli(argv, c), 1, argv.join(' '));
  assert.equal(calls, [], 'nothing reached the engine');
  assert.ok(c.errs.every((l) => /E_USAGE/.test(l)));
});

test('image shell: boot, ssh with the command, clean stop, save, delete the VM', async () => {
  const calls: string[] = [];
  const ran: string[][] = [];
  const e: Partial<EngineApi> = {
    listImages: async () => [],
    createVm: async (i) => {
      calls.push(`create ${i.image} start=${i.start}`);
      return { name: i.name, ip: null } as VmRecord;
    },
    stopVm: async (n) => {
      calls.push(`stop ${n.replace(/[0-9a-f]{6}$/, 'X')}`);
      return {} as VmRecord;
    },
    imageFromVm: async (i) => {
      calls.push(`save ${i.name}`);
      return { name: i.name } as ImageRecord;
    },
    removeVm: async (n, o) => {
      calls.push(`rm ${n.replace(/[0-9a-f]{6}$/, 'X')} force=${o?.force}`);
    },
  };
  // No IP (no network) and a command: there is no ssh to run it through, and nothing is saved.
  const c = ctx(e, ran);
  assert.is(await runCli(['image', 'shell', 'bb', '--save-as', 'bb2', '--', 'true'], c), 2);
  assert.equal(calls, ['create bb start=true', 'rm shell-X force=true']);
  assert.match(c.errs.join('\n'), /sshd did not answer \(no network\)/);
  // A taken name is refused before anything boots.
  calls.length = 0;
  e.listImages = async () => [{ name: 'bb2' } as ImageRecord];
  assert.is(await runCli(['image', 'shell', 'bb', '--save-as', 'bb2'], c), 1);
  assert.equal(calls, []);
});

test.run();
