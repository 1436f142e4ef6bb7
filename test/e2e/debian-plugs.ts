// Each feature's checks on the one Debian guest of debian.test.ts (one boot for all of them: a
// Debian VM takes ~26 s to boot under TCG). A feature adds its `vm create` words, made before
// that boot, and its checks on the running guest, through `vm exec` (ctx.cli) as the user.
// A plug whose feature has not landed says so in `pending` and its check is skipped with that
// reason, never passed. Owners: mounts (shared folders), ports (published ports: filled by e2e
// once --publish reached main; refine freely), seed
// (user-data and --ssh-key); fill your entry in place and set pending to null.
import * as assert from 'uvu/assert';
import type { VmRecord } from '../../app/contract/api.js';
import type { TestUser } from '../priv/user-fixture.js';
import type { Cli } from './exec-checks.js';

export interface DebianCtx {
  u: TestUser;
  /** The CLI as the user, against the Debian VM (cli.vm is its name). */
  cli: Cli;
  /** A dir the user owns, for host-side files (a folder to share, a user-data file). */
  work: string;
  /** The booted VM (set once it is up; createArgs runs before). */
  vm: VmRecord | null;
}

export interface DebianPlug {
  name: string;
  /** Why the check cannot run yet, or null. */
  pending: string | null;
  /** Extra `vm create` words for the shared VM (host-side files made here, in ctx.work). */
  createArgs(ctx: DebianCtx): Promise<string[]>;
  check(ctx: DebianCtx): Promise<void>;
}

const none = async (): Promise<string[]> => [];
/** A host port for the guest's sshd (the user's netns: no other test's listener is there). */
const SSH_PORT = 18022;
const todo = async (): Promise<void> => undefined;

export const plugs: DebianPlug[] = [
  {
    // mounts: --mount HOSTDIR:GUESTDIR and HOSTDIR:GUESTDIR:ro at create; a file written on
    // each side read on the other, ro refused in the guest.
    name: 'shared folders on Debian (vm create --mount)',
    pending: 'vm create --mount is on main; its Debian check is still to be written (helper mounts)',
    createArgs: none,
    check: todo,
  },
  {
    // ports: the guest's own sshd published on the user's loopback (Debian's minbase has no
    // other listener): its banner answers on the host port, an unpublished host port refuses.
    name: 'published ports on Debian (vm create --publish)',
    pending: null,
    createArgs: async () => ['--publish', `127.0.0.1:${SSH_PORT}:22`],
    check: async (ctx) => {
      const banner = (port: number) =>
        ctx.u.inNs(['timeout', '20', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && head -c 8 <&3`]);
      assert.is(banner(SSH_PORT), 'SSH-2.0-', "the guest's sshd through the published port");
      assert.throws(() => banner(SSH_PORT + 1), 'an unpublished port refuses');
      const ls = await ctx.cli.b(['vm', 'port', 'ls', 'deb', '--json']);
      assert.is(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, new RegExp(`"hostPort":\\s*${SSH_PORT}\\b`));
    },
  },
  {
    // seed: --user-data (a cloud-config that writes a file and starts a service: cloud-init is
    // not in the image, so banger's first-boot runner) and --ssh-key; both checked through exec.
    name: 'first-boot config on Debian (vm create --user-data, --ssh-key)',
    pending: 'vm create --user-data lands with helper seed (branch seed)',
    createArgs: none,
    check: todo,
  },
];
