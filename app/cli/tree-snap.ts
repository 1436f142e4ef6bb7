// The pause/resume and snapshot verbs of the command tree (app/cli/tree.ts), and image shell.
import { JSON_HELP, arg, valued, verb, whole, type Cmd, type Runtime } from './program.js';

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

export function imageShellVerb(g: Cmd, r: Runtime, rest: () => string[]): void {
  verb(
    g,
    'shell',
    'IMAGE [--save-as NEW] [--kernel K] [--backend B] [--memory MiB] [-- CMD...]',
    'a shell in a throwaway VM of IMAGE; on exit discard it, or keep its disk as image NEW',
    'banger image shell default',
    'banger image shell dev --save-as dev-curl -- apt-get install -y curl',
  )
    .addArgument(arg('<IMAGE>', 'image'))
    .addArgument(arg('[CMD...]', 'none', 'a command to run instead of a shell, after --'))
    .addOption(valued('--save-as <NEW>', 'keep the disk as a new image NEW'))
    .addOption(valued('--kernel <KERNEL>', 'kernel to boot', 'kernel'))
    .addOption(valued('--backend <BACKEND>', 'firecracker or qemu', 'backend'))
    .addOption(whole('--memory <MiB>', 'memory in MiB'))
    .action((image, words, o, self) => {
      const remote = rest();
      if (words.length !== remote.length) self.error('', { code: 'commander.excessArguments' });
      return r.run(import('./commands/image-shell.js').then((m) => m.imageShellVerb(r.ctx(), image, o, remote)));
    });
}
