// vm mount add|rm|ls in the command tree (app/cli/tree.ts): a stopped VM's shared folders.
import { JSON_HELP, arg, verb, type Cmd, type Runtime } from './program.js';

const mounts = () => import('./commands/mounts.js');

export function vmMountVerbs(g: Cmd, r: Runtime): void {
  const m = g
    .command('mount')
    .usage('VERB [...]')
    .description("a stopped VM's shared folders: host directories mounted in the guest at boot");
  verb(
    m,
    'add',
    'NAME HOSTDIR[:GUESTDIR][:ro] [--json]',
    'share a host directory with a stopped VM (GUESTDIR defaults to HOSTDIR; :ro read-only); mounted from its next start',
    'banger vm mount add web ./site:/srv/site',
    'banger vm mount add web ~/data:/data:ro',
  )
    .addArgument(arg('<NAME>', 'vm:startable'))
    .addArgument(arg('<SPEC>', 'dir', 'HOSTDIR[:GUESTDIR][:ro]'))
    .option('--json', JSON_HELP)
    .action((name, spec, o) => r.run(mounts().then((x) => x.add(r.ctx(), name, spec, o))));
  verb(m, 'rm', 'NAME GUESTDIR [--json]', "remove a stopped VM's shared folder", 'banger vm mount rm web /srv/site')
    .addArgument(arg('<NAME>', 'vm:startable'))
    .addArgument(arg('<GUESTDIR>', 'vm-mount'))
    .option('--json', JSON_HELP)
    .action((name, dir, o) => r.run(mounts().then((x) => x.rm(r.ctx(), name, dir, o))));
  verb(m, 'ls', 'NAME [--json]', "a VM's shared folders", 'banger vm mount ls web', 'banger vm mount ls web --json')
    .addArgument(arg('<NAME>', 'vm'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(mounts().then((x) => x.ls(r.ctx(), name, o))));
}
