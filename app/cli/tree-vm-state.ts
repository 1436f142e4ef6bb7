// The pause/resume and snapshot verbs of the vm group (app/cli/tree.ts).
import { JSON_HELP, arg, verb, type Cmd, type Runtime } from './program.js';

const snaps = () => import('./commands/snapshots.js');

export function vmStateVerbs(g: Cmd, r: Runtime): void {
  for (const v of ['pause', 'resume'] as const) {
    const about = v === 'pause' ? "freeze a VM's vCPUs (process, IP and DNS record stay)" : 'let a paused VM run again';
    verb(g, v, 'NAME [--json]', about, `banger vm ${v} web`)
      .addArgument(arg('<NAME>', v === 'pause' ? 'vm:running' : 'vm:paused'))
      .option('--json', JSON_HELP)
      .action((name, o) => r.run(snaps().then((m) => m.pauseOrResume(r.ctx(), v, name, o))));
  }
  const snap = verb(
    g,
    'snapshot',
    'NAME [SNAP] [--json]',
    'snapshot a running or paused VM: memory, devices and a copy of its disk (snapshot rm NAME SNAP deletes one)',
    'banger vm snapshot web',
    'banger vm snapshot web before-upgrade',
  )
    .addArgument(arg('<NAME>', 'vm:live'))
    .addArgument(arg('[SNAP]', 'none', 'the snapshot name (default: one is made up)'))
    .option('--json', JSON_HELP)
    .action((name, s, o) => r.run(snaps().then((m) => m.snapshot(r.ctx(), name, s, o))));
  verb(
    snap as unknown as Cmd,
    'rm',
    'NAME SNAP',
    'delete one snapshot and its files',
    'banger vm snapshot rm web before-upgrade',
  )
    .addArgument(arg('<NAME>', 'vm'))
    .addArgument(arg('<SNAP>', 'none'))
    .action((name, s) => r.run(snaps().then((m) => m.snapshotRm(r.ctx(), name, s))));
  verb(g, 'snapshots', 'NAME [--json]', "list a VM's snapshots and the disk they use", 'banger vm snapshots web')
    .addArgument(arg('<NAME>', 'vm'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(snaps().then((m) => m.snapshots(r.ctx(), name, o))));
  verb(
    g,
    'restore',
    'NAME SNAP [--json]',
    'put a VM back to a snapshot (what runs now is discarded); same name, IP and MAC',
    'banger vm restore web before-upgrade',
  )
    .addArgument(arg('<NAME>', 'vm'))
    .addArgument(arg('<SNAP>', 'none'))
    .option('--json', JSON_HELP)
    .action((name, s, o) => r.run(snaps().then((m) => m.restore(r.ctx(), name, s, o))));
}
