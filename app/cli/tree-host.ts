// The image, kernel, DNS, engine and shell verbs of the command tree (app/cli/tree.ts).
import { BangerError, ErrorCodes } from '../base/errors.js';
import { imageShellVerb } from './tree-snap.js';
import { JSON_HELP, arg, valued, verb, type Cmd, type Runtime } from './program.js';

const images = () => import('./commands/images.js');
const host = () => import('./commands/engine.js');

export function imageGroup(root: Cmd, r: Runtime, rest: () => string[]): void {
  const g = root
    .command('image')
    .usage('VERB [...]')
    .description('root filesystem images: build, import, shell, ls, rm');
  verb(
    g,
    'build',
    'NAME --from busybox|debian:bookworm [--size SIZE] [--packages a,b] [--json]',
    'build an ext4 root filesystem image',
    'banger image build default --from busybox',
    'banger image build dev --from debian:bookworm --size 2G --packages curl,git',
  )
    .addArgument(arg('<NAME>', 'none'))
    .addOption(valued('--from <SOURCE>', 'what to build from: busybox or debian:bookworm', 'image-source'))
    .addOption(valued('--size <SIZE>', 'filesystem size, e.g. 1G'))
    .addOption(valued('--packages <LIST>', 'extra packages, comma-separated (debian)'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(images().then((m) => m.imageBuild(r.ctx(), name, o))));
  verb(
    g,
    'import',
    'NAME PATH [--size SIZE] [--json]   (PATH: ext4 file, directory or rootfs tarball)',
    'import an image from an ext4 file, a directory or a tarball',
    'banger image import alpine ./alpine-minirootfs.tar.gz --size 1G',
  )
    .addArgument(arg('<NAME>', 'none'))
    .addArgument(arg('<PATH>', 'file', 'an ext4 file, a directory or a rootfs tarball'))
    .addOption(valued('--size <SIZE>', 'filesystem size, e.g. 1G'))
    .option('--json', JSON_HELP)
    .action((name, path, o) => r.run(images().then((m) => m.imageImport(r.ctx(), name, path, o))));
  imageShellVerb(g, r, rest);
  verb(g, 'ls', '[--json]', 'list images', 'banger image ls')
    .option('--json', JSON_HELP)
    .action((o) => r.run(images().then((m) => m.imageLs(r.ctx(), o))));
  verb(g, 'rm', 'NAME', 'delete an image (refused while a VM uses it)', 'banger image rm old')
    .addArgument(arg('<NAME>', 'image'))
    .action((name) => r.run(images().then((m) => m.imageRm(r.ctx(), name))));
}

export function kernelGroup(root: Cmd, r: Runtime): void {
  const g = root.command('kernel').usage('VERB [...]').description('guest kernels: fetch, build, add, ls, rm');
  verb(
    g,
    'add',
    'NAME PATH [--initrd P] [--json]',
    'register a kernel (an ELF vmlinux)',
    'banger kernel add mine ./vmlinux',
  )
    .addArgument(arg('<NAME>', 'none'))
    .addArgument(arg('<PATH>', 'file', 'an uncompressed ELF vmlinux'))
    .addOption(valued('--initrd <PATH>', 'an initramfs to boot with it', 'file'))
    .option('--json', JSON_HELP)
    .action((name, path, o) => r.run(images().then((m) => m.kernelAdd(r.ctx(), name, path, o))));
  const about = {
    fetch: 'Debian cloud kernel + initramfs (QEMU; not Firecracker)',
    build: 'build a microVM vmlinux from Debian linux-source (~9 min on 2 cores)',
  };
  for (const v of ['fetch', 'build'] as const) {
    verb(g, v, 'NAME [--json]', about[v], `banger kernel ${v} default`)
      .addArgument(arg('<NAME>', 'none'))
      .option('--json', JSON_HELP)
      .action((name, o) => r.run(images().then((m) => m.kernelFetchOrBuild(r.ctx(), v, name, o))));
  }
  verb(g, 'ls', '[--json]', 'list kernels', 'banger kernel ls')
    .option('--json', JSON_HELP)
    .action((o) => r.run(images().then((m) => m.kernelLs(r.ctx(), o))));
  verb(g, 'rm', 'NAME', 'delete a kernel (refused while a VM uses it)', 'banger kernel rm old')
    .addArgument(arg('<NAME>', 'kernel'))
    .action((name) => r.run(images().then((m) => m.kernelRm(r.ctx(), name))));
}

export function dnsGroup(root: Cmd, r: Runtime): void {
  const g = root.command('dns').usage('VERB [...]').description('the NAME.vm records, and the host resolver config');
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
    .option('--apply', 'install the resolver config (root: run it with sudo)')
    .option('--remove', 'uninstall it (root: run it with sudo)')
    .action((o) => r.run(host().then((m) => m.dnsSetup(r.ctx(), o))));
}

export function engineGroup(root: Cmd, r: Runtime): void {
  const g = root
    .command('engine')
    .usage('VERB [...]')
    .description('the background engine: stop, reconcile, events, serve');
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
  const g = root
    .command('setup')
    .usage('VERB [...]')
    .description('one-time host set-up: sudoers (privileges), ssh (ssh NAME.vm)');
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
  verb(
    g,
    'ssh',
    '[--apply | --remove]',
    'print (--apply: install, --remove: uninstall) the ssh config that makes "ssh NAME.vm" log in as root with banger\'s key',
    'banger setup ssh',
    'banger setup ssh --apply',
  )
    .option('--apply', 'write it and Include it from ~/.ssh/config')
    .option('--remove', 'take both out again')
    .action((o) => r.run(import('./commands/setup.js').then((m) => m.setupSsh(r.ctx(), o))));
}

export function hostVerbs(root: Cmd, r: Runtime): void {
  verb(
    root,
    'status',
    '[--json]',
    'engine pid, uptime, build, mode, socket, DNS listener, VM counts, backends',
    'banger status',
  )
    .summary('the running engine: pid, DNS, VM counts, backends')
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.status(r.ctx(), o))));
  verb(
    root,
    'doctor',
    '[--json]',
    'check this host from here (no engine needed): VMM binaries, /dev/kvm, CPU virtualization, tools',
    'banger doctor',
  )
    .summary('check this host: VMMs, /dev/kvm, tools, privileges')
    .option('--json', JSON_HELP)
    .action((o) => r.run(host().then((m) => m.doctor(r.ctx(), o))));
  verb(
    root,
    'completion',
    'bash|zsh|fish',
    'print the shell completion script (install: docs/cli.md)',
    'banger completion bash > ~/.local/share/bash-completion/completions/banger',
    'banger completion zsh > "${fpath[1]}/_banger"',
    'banger completion fish > ~/.config/fish/completions/banger.fish',
  )
    .addArgument(arg('<SHELL>', 'shell', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'] as const))
    .action((shell) => r.run(import('./completion-scripts.js').then((m) => r.ctx().out(m.script(shell)))));
}
