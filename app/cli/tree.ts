// The one command tree: every verb's arguments, flags, help text and examples. commander parses
// with it, help is generated from it (help.ts) and shell completion walks it (complete.ts).
// A verb's code loads on first use (import() in its action): start-up pays for this
// declaration and commander only.
import { BangerCommand, type Cmd, type Runtime } from './program.js';
import { formatHelp } from './help.js';
import { vmGroup } from './tree-vm.js';
import { dnsGroup, engineGroup, hostVerbs, imageGroup, kernelGroup, setupGroup } from './tree-host.js';

export function buildTree(r: Runtime, rest: () => string[] = () => []): Cmd {
  const root = (new BangerCommand('banger').configureHelp({ formatHelp }) as unknown as Cmd)
    .description('banger: Firecracker microVMs from your terminal, reachable as NAME.vm')
    .usage('COMMAND [...]')
    .helpCommand(false)
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: (t) => r.write(t), writeErr: (t) => r.write(t), outputError: () => {} });
  vmGroup(root, r, rest);
  imageGroup(root, r, rest);
  kernelGroup(root, r);
  dnsGroup(root, r);
  engineGroup(root, r);
  setupGroup(root, r);
  hostVerbs(root, r);
  return root;
}
