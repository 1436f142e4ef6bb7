// The cloud-config subset compiled on the host into the files banger's first-boot runner
// (assets/guest/seed.d/30-firstboot.sh) runs: `every-boot.sh` (bootcmd, hostname: at every
// boot, as cloud-init does) and `once.sh` (write_files, then runcmd: once per instance-id).
// write_files contents travel as files of their own (files/N), so no byte is ever quoted into
// a script; commands are written as cloud-init writes its runcmd script: a string as a shell
// line, a list as a quoted argv.
import type { CloudConfig, Command } from '../../../contract/user-data.js';
import type { SeedFiles } from './sections.js';

/** Single-quoted for sh: safe for any text. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function commandLine(c: Command): string {
  return typeof c === 'string' ? c : c.map(shq).join(' ');
}

const HEAD = "#!/bin/sh\n# written by banger from the VM's cloud-config\n";

export function compileCloudConfig(c: CloudConfig, dir = 'banger/firstboot'): SeedFiles {
  const files: SeedFiles = {};
  const every: string[] = [];
  if (c.bootcmd.length) {
    files[`${dir}/bootcmd.sh`] = HEAD + c.bootcmd.map(commandLine).join('\n') + '\n';
    every.push(`sh "$SEED/${dir}/bootcmd.sh" || echo "banger-firstboot: bootcmd exited $?"`);
  }
  if (c.hostname) {
    const h = shq(c.hostname);
    every.push(`hostname ${h}`, `echo ${h} > /etc/hostname`);
  }
  const once: string[] = [];
  c.writeFiles.forEach((f, i) => {
    files[`${dir}/files/${i}`] = f.content;
    const p = shq(f.path);
    once.push(
      `mkdir -p "$(dirname ${p})"`,
      `cat "$SEED/${dir}/files/${i}" ${f.append ? '>>' : '>'} ${p} || echo "banger-firstboot: cannot write "${p}`,
      `chmod ${f.mode.toString(8).padStart(4, '0')} ${p}`,
      `chown ${shq(f.owner)} ${p} || echo "banger-firstboot: chown ${f.owner} failed for "${p}`,
    );
  });
  if (c.runcmd.length) {
    files[`${dir}/runcmd.sh`] = HEAD + c.runcmd.map(commandLine).join('\n') + '\n';
    once.push(`sh "$SEED/${dir}/runcmd.sh" || echo "banger-firstboot: runcmd exited $?"`);
  }
  if (every.length) files[`${dir}/every-boot.sh`] = HEAD + every.join('\n') + '\n';
  if (once.length) files[`${dir}/once.sh`] = HEAD + once.join('\n') + '\n';
  return files;
}

/** A `#!` user-data script: run as it is, once per instance (its own interpreter). */
export function compileScript(text: string, dir = 'banger/firstboot'): SeedFiles {
  return {
    [`${dir}/user-script`]: text,
    [`${dir}/once.sh`]:
      HEAD +
      `cp "$SEED/${dir}/user-script" /run/banger/user-script && chmod 0700 /run/banger/user-script && /run/banger/user-script\n`,
  };
}
