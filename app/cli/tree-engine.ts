// The DNS, engine and set-up groups of the command tree (app/cli/tree.ts), and the verbs at
// its root (doctor, completion).
import { BangerError, ErrorCodes } from '../base/errors.js';
import { JSON_HELP, arg, valued, verb, type Cmd, type Runtime } from './program.js';

const host = () => import('./commands/engine.js');

export function dnsGroup(root: Cmd, r: Runtime): void {
  const g = root.command('dns').usage('VERB [...]').description('the NAME.vm resolver');
  verb(g, 'ls', '[--json]', 'list DNS records (running VMs)', 'banger dns ls')
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.dnsLs(r.ctx(), o))));
  verb(
    g,
    'setup',
    '[--apply | --remove]',
    'print (--apply: install, --remove: uninstall) the resolver config that routes .vm to banger',
    'banger dns setup',
    'sudo banger dns setup --apply',
  )
    .option('--apply', 'install the resolver config')
    .option('--remove', 'uninstall it')
    .action((o) => r.run(host().then((m) => m.dnsSetup(r.ctx(), o))));
}

export function engineGroup(root: Cmd, r: Runtime): void {
  const g = root.command('engine').usage('VERB [...]').description('the background engine');
  verb(
    g,
    'stop',
    '[--stop-vms] [--purge]',
    'stop the background engine (VMs keep running unless --stop-vms; --purge also removes the bridge and NAT)',
    'banger engine stop',
    'banger engine stop --stop-vms --purge',
  )
    .option('--stop-vms', 'stop every VM first')
    .option('--purge', 'also remove the bridge and NAT rules')
    .action((o) => r.run(host().then((m) => m.engineStop(r.ctx(), o))));
  verb(
    g,
    'reconcile',
    '[--json]',
    'adopt running VMs, mark dead ones stopped, sweep orphans',
    'banger engine reconcile',
  )
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.reconcile(r.ctx(), o))));
  verb(g, 'events', '[--json]', "the engine's event log (VM state changes and more)", 'banger engine events')
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.events(r.ctx(), o))));
  verb(
    g,
    'serve',
    ' ',
    'run the engine in the foreground (what --detach starts; for service managers)',
    'banger engine serve',
  ).action(() => r.run(serve(r)));
}

async function serve(r: Runtime): Promise<number> {
  const c = r.ctx();
  if (!c.serveEngine) throw new BangerError(ErrorCodes.NOT_IMPLEMENTED, 'no engine service here');
  return c.serveEngine();
}

export function setupGroup(root: Cmd, r: Runtime): void {
  const g = root.command('setup').usage('VERB [...]').description('one-time host set-up');
  verb(
    g,
    'sudoers',
    '[--user NAME] [--firecracker PATH] [--jailer PATH [--jail-base DIR]] [--apply | --remove]',
    "print (--apply: install, --remove: uninstall) banger's privileged entry point and the sudoers drop-in naming only it",
    'banger setup sudoers',
    'sudo banger setup sudoers --user alice --apply',
  )
    .addOption(valued('--user <NAME>', 'the user who runs banger (default: you, or SUDO_USER under sudo)'))
    .addOption(
      valued(
        '--firecracker <PATH>',
        'the root-owned Firecracker binary the entry point may start: as root (the sudo fallback; root-equivalent for the user, prefer the kvm group), or under --jailer',
      ),
    )
    .addOption(
      valued(
        '--jailer <PATH>',
        'run Firecracker under this root-owned jailer, as the user, chrooted (then never as root); default binary: the configured firecrackerBin',
      ),
    )
    .addOption(valued('--jail-base <DIR>', "the jailer's chroot base, root's alone (default /srv/jailer/banger-USER)"))
    .option('--apply', 'install the entry point and the sudoers drop-in')
    .option('--remove', 'uninstall them')
    .action((o) => r.run(import('./commands/setup.js').then((m) => m.setupSudoers(r.ctx(), o))));
}

export function hostVerbs(root: Cmd, r: Runtime): void {
  verb(
    root,
    'status',
    '[--json]',
    'engine pid, uptime, build, mode, socket, DNS listener, VM counts, backends',
    'banger status',
  )
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.status(r.ctx(), o))));
  verb(
    root,
    'doctor',
    '[--json]',
    'check this host from here (no engine needed): VMM binaries, /dev/kvm, CPU virtualization, tools',
    'banger doctor',
  )
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.doctor(r.ctx(), o))));
  verb(
    root,
    'completion',
    'bash|zsh|fish',
    'print the shell completion script (see README for installing it)',
    'banger completion bash > ~/.local/share/bash-completion/completions/banger',
    'banger completion zsh > "${fpath[1]}/_banger"',
    'banger completion fish > ~/.config/fish/completions/banger.fish',
  )
    .addArgument(arg('<SHELL>', 'shell', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'] as const))
    .action((shell) => r.run(import('./completion-scripts.js').then((m) => r.ctx().out(m.script(shell)))));
}
