// vm port add/rm/ls: a VM's published ports (app/cli/tree.ts).
import { JSON_HELP, arg, verb, type Cmd, type Runtime } from './program.js';

const ports = () => import('./commands/ports.js');

export function vmPortVerbs(g: Cmd, r: Runtime): void {
  const port = g
    .command('port')
    .usage('add|rm|ls NAME ...')
    .description("a VM's published ports: host ADDR:HOSTPORT forwarded to the guest's port");
  verb(
    port,
    'add',
    'NAME [ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]',
    'publish a guest port (ADDR 127.0.0.1 unless given); on a running VM it listens at once',
    'banger vm port add web 8080:80',
    'banger vm port add web 0.0.0.0:5353:53/udp',
  )
    .addArgument(arg('<NAME>', 'vm'))
    .addArgument(arg('<SPEC>', 'none', '[ADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]'))
    .action((name, spec) => r.run(ports().then((m) => m.add(r.ctx(), name, spec))));
  verb(
    port,
    'rm',
    'NAME [ADDR:]HOSTPORT[/PROTO]',
    'stop publishing every port that matches (what is left out matches any); on a running VM at once',
    'banger vm port rm web 8080',
    'banger vm port rm web 0.0.0.0:5353/udp',
  )
    .addArgument(arg('<NAME>', 'vm'))
    .addArgument(arg('<PORT>', 'vm-port', '[ADDR:]HOSTPORT[/PROTO]'))
    .action((name, key) => r.run(ports().then((m) => m.rm(r.ctx(), name, key))));
  verb(port, 'ls', 'NAME [--json]', "list a VM's published ports", 'banger vm port ls web --json')
    .addArgument(arg('<NAME>', 'vm'))
    .option('--json', JSON_HELP)
    .action((name, o) => r.run(ports().then((m) => m.ls(r.ctx(), name, o))));
}
