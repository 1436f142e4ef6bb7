// The vm verbs of the command tree (app/cli/tree.ts). A verb's code loads on first use.
import { vmStateVerbs } from './tree-vm-state.js';
import { vmExecVerbs } from './tree-vm-exec.js';
import { vmMountVerbs } from './tree-vm-mount.js';
import { vmPortVerbs } from './tree-vm-ports.js';
import {
  JSON_HELP,
  arg,
  flag,
  repeated,
  valued,
  verb,
  whole,
  withDefaults,
  type Cmd,
  type Runtime,
} from './program.js';

const vm = () => import('./commands/vm.js');
const metrics = () => import('./commands/metrics.js');

const userDataOption = () =>
  valued(
    '--user-data <FILE>',
    'first-boot config: a #cloud-config file or a #! script, at most 1 MiB (docs/first-boot.md)',
    'file',
  );

function vmRecordVerbs(g: Cmd, r: Runtime): void {
  verb(
    g,
    'create',
    'NAME|--name NAME [--image I] [--kernel K] [--vcpus N] [--memory MiB] [--disk SIZE] [--backend B] [--boot-args ARGS] [--stop-timeout SECONDS] [--mount HOSTDIR[:GUESTDIR][:ro]]... [--publish [ADDR:]HOSTPORT:GUESTPORT[/PROTO]]... [--user-data FILE] [--ssh-key FILE]... [--run] [--start] [--json]',
    'create a VM (and start it with --start)',
    'banger vm create web',
    'banger vm create web --image default --vcpus 2 --memory 1024 --disk 4G --start',
    'banger vm create --name web --backend qemu',
    'banger vm create web --backend qemu --mount ./src:/src --mount ~/data:/data:ro',
    'banger vm create web --user-data cloud.yaml --ssh-key ~/.ssh/id_ed25519.pub --start',
    'banger vm create web --publish 8080:80 --publish 0.0.0.0:5353:53/udp --start',
    'banger vm create web --image nginx --run --start',
  )
    .addArgument(
      arg('[NAME]', 'none', 'a DNS label: 1-63 of a-z, 0-9 and -, not starting or ending with - (or --name)'),
    )
    .addOption(valued('--name <NAME>', 'the VM name (the same as the positional NAME)'))
    .addOption(
      valued(
        '--image <IMAGE>',
        'root filesystem image (default: config defaultImage, else "default", else the only one)',
        'image',
      ),
    )
    .addOption(
      valued(
        '--kernel <KERNEL>',
        'kernel (default: config defaultKernel, else "default", else the only one)',
        'kernel',
      ),
    )
    .addOption(whole('--vcpus <N>', 'virtual CPUs'))
    .addOption(whole('--memory <MiB>', 'memory in MiB'))
    .addOption(valued('--disk <SIZE>', 'root disk size, e.g. 2G or 512M (grows the image copy)'))
    .addOption(valued('--backend <BACKEND>', 'firecracker or qemu (default: the engine picks)', 'backend'))
    .addOption(valued('--boot-args <ARGS>', 'extra kernel command line'))
    .addOption(
      whole('--stop-timeout <SECONDS>', "this VM's graceful-stop wait (default: config, else by the image's init)"),
    )
    .addOption(
      repeated(
        '--mount <SPEC>',
        'share HOSTDIR[:GUESTDIR][:ro] with the guest (repeatable; GUESTDIR defaults to HOSTDIR; qemu backend)',
        'dir',
      ),
    )
    .addOption(
      repeated(
        '--publish <SPEC>',
        'publish a guest port on the host: [ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp], ADDR 127.0.0.1 unless given (repeatable)',
      ),
    )
    .addOption(userDataOption())
    .addOption(repeated('--ssh-key <FILE>', "a public key for root's authorized_keys (repeatable)", 'file'))
    .option(
      '--run',
      "run the image's Entrypoint/Cmd as a supervised service at every boot (an image imported from OCI)",
    )
    .option('--start', 'start the VM once created')
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(vm().then((m) => m.create(r.ctx(), name, o))));
  withDefaults(g.commands.at(-1)!, () => {
    try {
      return r.ctx().createDefaults?.() ?? [];
    } catch {
      return []; // no context (completion): no host defaults to show
    }
  });
  verb(g, 'ls', '[--json]', 'list VMs', 'banger vm ls', 'banger vm ls --json')
    .option('--json', JSON_HELP)
    .action((o) => r.run(vm().then((m) => m.ls(r.ctx(), o))));
  verb(g, 'show', 'NAME [--json]', 'show one VM', 'banger vm show web', 'banger vm show web --json')
    .addArgument(arg('<NAME>', 'vm'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(vm().then((m) => m.show(r.ctx(), name, o))));
}

function vmLifecycleVerbs(g: Cmd, r: Runtime): void {
  for (const v of ['start', 'restart'] as const) {
    verb(g, v, 'NAME [--json]', `${v} a VM`, `banger vm ${v} web`)
      .addArgument(arg('<NAME>', v === 'start' ? 'vm:startable' : 'vm'))
      .option('--json', JSON_HELP)
      .action((name, o) => r.run(vm().then((m) => m.startOrRestart(r.ctx(), v, name, o))));
  }
  verb(
    g,
    'stop',
    'NAME [--force | --save] [--timeout SECONDS] [--json]',
    'stop a VM: Ctrl-Alt-Del, then SIGTERM, then SIGKILL (--force: SIGKILL now; --save: suspend, the next start resumes)',
    'banger vm stop web',
    'banger vm stop web --timeout 5',
    'banger vm stop web --force',
    'banger vm stop web --save',
  )
    .addArgument(arg('<NAME>', 'vm:live'))
    .addOption(flag('-f, --force', 'SIGKILL at once, no graceful shutdown', 'save'))
    .addOption(
      flag('--save', 'suspend: write memory and devices to disk and end the VMM; `vm start` resumes it', 'force'),
    )
    .addOption(whole('--timeout <SECONDS>', 'how long the graceful steps may take'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(vm().then((m) => m.stop(r.ctx(), name, o))));
  verb(
    g,
    'clone',
    'SOURCE NAME [--json]',
    'copy a stopped VM under a new name: its own MAC, IP and DNS name, a copy of the disk',
    'banger vm clone web web2',
  )
    .addArgument(arg('<SOURCE>', 'vm:startable'))
    .argument('<NAME>', 'the new VM')
    .option('--json', JSON_HELP)
    .action((source, name, o) => r.run(vm().then((m) => m.clone(r.ctx(), source, name, o))));
  verb(g, 'rm', 'NAME [--force]', 'delete a VM, its disk and its lease (--force stops it first)', 'banger vm rm web')
    .addArgument(arg('<NAME>', 'vm'))
    .option('-f, --force', 'stop the VM first if it runs')
    .action((name, o) => r.run(vm().then((m) => m.rm(r.ctx(), name, o))));
}

function vmMetricsVerbs(g: Cmd, r: Runtime): void {
  verb(
    g,
    'top',
    '[--json]',
    'running VMs with CPU %, RSS, net rx/tx rates and disk allocated (latest sample)',
    'banger vm top',
    'banger vm top --json',
  )
    .option('--json', JSON_HELP)
    .action((o) => r.run(metrics().then((m) => m.top(r.ctx(), o))));
  verb(
    g,
    'stats',
    'NAME [--samples N] [--json]',
    "a VM's recent metrics: current/avg/max CPU, RSS, rx/tx (last N samples, default 60)",
    'banger vm stats web',
    'banger vm stats web -n 10 --json',
  )
    .addArgument(arg('<NAME>', 'vm'))
    .addOption(whole('-n, --samples <N>', 'how many of the newest samples (one a second), 1 to 100000'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(metrics().then((m) => m.stats(r.ctx(), name, o))));
}

function vmAccessVerbs(g: Cmd, r: Runtime, rest: () => string[]): void {
  verb(
    g,
    'ssh',
    'NAME [-- CMD...]',
    "ssh into a VM as root with banger's key (a command after -- runs instead of a shell)",
    'banger vm ssh web',
    'banger vm ssh web -- uname -a',
  )
    .addArgument(arg('<NAME>', 'vm:running'))
    .addArgument(arg('[CMD...]', 'none', 'a command for the guest, after --'))
    .action((name, words, _o, self) => {
      const remote = rest();
      // Words after the name but before "--" are a mistake, not a remote command.
      if (words.length !== remote.length) self.error('', { code: 'commander.excessArguments' });
      return r.run(vm().then((m) => m.ssh(r.ctx(), name, remote)));
    });
  verb(g, 'console', 'NAME', 'attach to the serial console (Ctrl-] leaves)', 'banger vm console web')
    .addArgument(arg('<NAME>', 'vm'))
    .action((name) => r.run(vm().then((m) => m.consoleVerb(r.ctx(), name))));
  verb(
    g,
    'logs',
    'NAME [--follow] [--bytes N]',
    'print the console log (--follow keeps printing)',
    'banger vm logs web',
    'banger vm logs web -f --bytes 4096',
  )
    .addArgument(arg('<NAME>', 'vm'))
    .option('-f, --follow', 'keep printing until the VM stops (or Ctrl-C)')
    .addOption(whole('--bytes <N>', 'how much of the log tail to print first (default 65536)'))
    .action((name, o) => r.run(vm().then((m) => m.logs(r.ctx(), name, o))));
}

export function vmGroup(root: Cmd, r: Runtime, rest: () => string[]): void {
  const g = root
    .command('vm')
    .usage('VERB [...]')
    .description('VMs: create, exec, cp, shared folders, ports, suspend, snapshot');
  vmRecordVerbs(g, r);
  vmLifecycleVerbs(g, r);
  vmAccessVerbs(g, r, rest);
  vmExecVerbs(g, r, rest);
  vmMountVerbs(g, r);
  vmStateVerbs(g, r);
  vmPortVerbs(g, r);
  vmMetricsVerbs(g, r);
}
