// The image and kernel groups of the command tree (app/cli/tree.ts), image shell included.
import { JSON_HELP, arg, valued, verb, whole, type Cmd, type Runtime } from './program.js';

const images = () => import('./commands/images.js');

export function imageGroup(root: Cmd, r: Runtime, rest: () => string[]): void {
  const g = root
    .command('image')
    .usage('VERB [...]')
    .description('images: build, import (OCI registries, archives), shell, ls, rm');
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
    'NAME REF [--platform OS/ARCH] [--tls-verify=false] [--size SIZE] [--json]   (REF: docker://HOST/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, or an ext4 file, directory or rootfs tarball)',
    'import an image from a registry, an OCI layout or archive, an ext4 file, a directory or a tarball',
    'banger image import alpine docker://docker.io/library/alpine:3.20',
    'banger image import web oci-archive:./web.tar --platform linux/amd64',
    'banger image import dev docker://localhost:5000/dev:latest --tls-verify=false',
    'banger image import alpine ./alpine-minirootfs.tar.gz --size 1G',
  )
    .addArgument(arg('<NAME>', 'none'))
    .addArgument(
      arg('<REF>', 'image-ref', 'a transport REF (docker://, oci:, oci-archive:, docker-archive:) or a local path'),
    )
    .addOption(valued('--platform <OS/ARCH>', 'which image of a multi-platform index (default linux/amd64)'))
    .addOption(
      valued('--tls-verify <BOOL>', 'false: plain HTTP or an unverified certificate (docker://)').choices([
        'true',
        'false',
      ]),
    )
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

function imageShellVerb(g: Cmd, r: Runtime, rest: () => string[]): void {
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
