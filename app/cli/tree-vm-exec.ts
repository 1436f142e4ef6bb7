// vm exec and vm cp in the command tree (app/cli/tree.ts): commands and copies over ssh.
import { JSON_HELP, arg, verb, type Cmd, type Runtime } from './program.js';

const ex = () => import('./commands/exec.js');

export function vmExecVerbs(g: Cmd, r: Runtime, rest: () => string[]): void {
  verb(
    g,
    'exec',
    'NAME [-i] [-t] -- CMD...',
    "run a command in a VM (stdout and stderr kept apart, its exit code; banger's own failures exit 125)",
    'banger vm exec web -- uname -a',
    'banger vm exec web -i -- sh -c "cat > /etc/motd" < motd',
    'banger vm exec web -it -- top',
  )
    .addArgument(arg('<NAME>', 'vm:running'))
    .addArgument(arg('[CMD...]', 'none', 'the command for the guest, after --'))
    .option('-i, --interactive', 'pass this stdin to the command')
    .option('-t, --tty', 'give the command a terminal')
    .action((name, words, o, self) => {
      const remote = rest();
      if (words.length !== remote.length) self.error('', { code: 'commander.excessArguments' });
      return r.run(ex().then((m) => m.exec(r.ctx(), name, remote, o)));
    });
  verb(
    g,
    'cp',
    'SRC DST [-r] [--json]',
    'copy files between this host and a VM: NAME:PATH on one side, - for a tar stream on stdin/stdout, DIR/. for its contents',
    'banger vm cp ./app.conf web:/etc/app.conf',
    'banger vm cp -r ./site web:/srv/',
    'banger vm cp -r ./site/. web:/srv/www',
    'banger vm cp web:/var/log/messages .',
    'tar -c site | banger vm cp - web:/srv',
    'banger vm cp web:/etc - | tar -t',
  )
    .addArgument(arg('<SRC>', 'file', 'a local path, NAME:PATH, or - (a tar stream on stdin)'))
    .addArgument(arg('<DST>', 'file', 'a local path, NAME:PATH, or - (a tar stream on stdout)'))
    .option('-r, --recursive', 'copy directories')
    .option('--json', JSON_HELP)
    .action((src, dst, o) => r.run(ex().then((m) => m.cp(r.ctx(), src, dst, o))));
}
