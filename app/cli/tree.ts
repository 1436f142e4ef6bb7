// The one command tree: every verb's arguments, flags, help text and examples. commander parses
// with it, help is generated from it (help.ts) and shell completion walks it (complete.ts).
// A verb's code loads on first use (import() in its action): start-up pays for this
// declaration and commander only.
import { BangerCommand, type Cmd, type Runtime } from './program.js';
import { formatHelp } from './help.js';
import { vmGroup } from './tree-vm.js';
import { dnsGroup, engineGroup, hostVerbs, setupGroup } from './tree-engine.js';
import { imageGroup, kernelGroup } from './tree-image.js';

/** The command groups, each added to the root by its own file. */
const GROUPS: Record<string, (root: Cmd, r: Runtime, rest: () => string[]) => void> = {
  vm: vmGroup,
  image: imageGroup,
  kernel: (root, r) => kernelGroup(root, r),
  dns: (root, r) => dnsGroup(root, r),
  engine: (root, r) => engineGroup(root, r),
  setup: (root, r) => setupGroup(root, r),
};

/**
 * The tree; with `only` naming a group, that group alone (a verb under it needs no other, and
 * building all of them costs every verb about a millisecond). Help and completion take it whole.
 */
export function buildTree(r: Runtime, rest: () => string[] = () => [], only?: string): Cmd {
  const root = (new BangerCommand('banger').configureHelp({ formatHelp }) as unknown as Cmd)
    .description('banger: Firecracker microVMs from your terminal, reachable as NAME.vm')
    .usage('COMMAND [...]')
    .helpCommand(false)
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: (t) => r.write(t), writeErr: (t) => r.write(t), outputError: () => {} });
  const one = only !== undefined && Object.hasOwn(GROUPS, only) ? only : null;
  for (const [name, add] of Object.entries(GROUPS)) if (one === null || name === one) add(root, r, rest);
  if (one === null) hostVerbs(root, r);
  return root;
}
