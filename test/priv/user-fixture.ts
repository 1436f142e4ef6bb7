// A real unprivileged user for the non-root tests: created with useradd, every command run as
// them with runuser inside a throwaway network namespace (and, when the host has /dev/kvm, a
// private mount namespace where /dev/kvm is a node the user owns, so Firecracker runs as
// them without touching the host's device). The entry point is installed under a dir of its
// own in /usr/local/libexec and the drop-in is /etc/sudoers.d/banger-USER: cleanup removes
// exactly those, the user, their files and every process of theirs, even after a failure.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { collect as collectOutput } from '../helpers/collect.js';
import {
  mkdirSync,
  writeFileSync,
  chmodSync,
  chownSync,
  lstatSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { resolvePaths, type Paths } from '../../app/base/paths.js';
import { ENTRY_NAME } from '../../app/base/priv-argv.js';
import { dropInPath } from '../../app/priv/install.js';
import { ROOT } from '../service/helpers.js';
import { reachableMain, reachableRoot } from '../helpers/reachable.js';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const SBIN = `${process.env.PATH}:/usr/sbin:/sbin`;
const NEEDED = ['useradd', 'userdel', 'runuser', 'sudo', 'visudo', 'ip', 'nft', 'nsenter', 'unshare', 'mknod'];

/** Why these tests cannot run here, or null. */
export function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (useradd, sudoers, network namespaces)';
  const missing = NEEDED.filter((b) => !which(b, SBIN));
  if (missing.length) return `missing ${missing.join(', ')}`;
  if (!existsSync('/usr/local/libexec') && !existsSync('/usr/local')) return 'no /usr/local';
  return null;
}

function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** From a dir the user can reach (a private checkout is not one: see helpers/reachable.ts). */
function collect(argv: string[], timeoutMs: number, input?: string): Promise<Result> {
  return collectOutput(argv, { cwd: reachableRoot(), timeoutMs, input });
}

/** Pids whose real uid is uid. */
export function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'));
      if (m && Number(m[1]) === uid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function uidOf(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export class TestUser {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly privDir: string;
  readonly entry: string;
  readonly netns: string;
  readonly paths: Paths;
  /** Holder of the private mount namespace (null: the host has no /dev/kvm). */
  mntPid: number | null = null;
  readonly scratch: string;
  private cleaned = false;
  private readonly onExit = () => this.cleanup();

  /** share: a second user on the first one's host (its entry point dir and netns). */
  constructor(
    private config: Record<string, unknown>,
    private readonly share?: TestUser,
  ) {
    const tag = randomBytes(3).toString('hex');
    this.user = `bgt${tag}`;
    this.privDir = share?.privDir ?? `/usr/local/libexec/banger-test-${tag}`;
    this.entry = join(this.privDir, ENTRY_NAME);
    this.netns = share?.netns ?? `bgt-${tag}`;
    this.scratch = mkdtempSync('/tmp/bgt-');
    chmodSync(this.scratch, 0o755); // the user reads the test's kernel and image from here
    process.on('exit', this.onExit);
    sh(['useradd', '-m', '-U', '-s', '/bin/sh', this.user]);
    const pw = sh(['getent', 'passwd', this.user]).trim().split(':');
    this.uid = Number(pw[2]);
    this.gid = Number(pw[3]);
    this.home = pw[5];
    this.paths = resolvePaths({ HOME: this.home, BANGER_RUNTIME_DIR: '' });
    if (!share) {
      sh(['ip', 'netns', 'add', this.netns]);
      sh(['ip', '-n', this.netns, 'link', 'set', 'lo', 'up']);
    }
    this.writeConfig();
  }

  /** Change the user's config.json (before their engine starts, or restart it). */
  updateConfig(patch: Record<string, unknown>): void {
    this.config = { ...this.config, ...patch };
    this.writeConfig();
  }

  private writeConfig(): void {
    const dir = join(this.home, '.config', 'banger');
    this.asRootSync(['install', '-d', '-o', this.user, '-g', this.user, '-m', '0700', join(this.home, '.config'), dir]);
    const file = join(this.scratch, 'config.json');
    sh(['tee', file], JSON.stringify(this.config, null, 2));
    this.asRootSync(['install', '-o', this.user, '-g', this.user, '-m', '0600', file, join(dir, 'config.json')]);
  }

  private asRootSync(argv: string[]): string {
    return sh(argv);
  }

  /**
   * A private mount namespace for the user's commands, with device nodes as a stock Debian
   * host has them: /dev/net/tun 0666 (this host's may be 0600) and, with kvm, a /dev/kvm node
   * the user owns (as kvm group membership would give). The host's own nodes are not touched.
   * Returns whether /dev/kvm was provided.
   */
  async privateDevices(o: { kvm: boolean }): Promise<boolean> {
    const bind: [string, string][] = [];
    const node = (name: string, dev: string, mode: string, owned: boolean) => {
      const rdev = statSync(dev).rdev;
      const p = join(this.scratch, name);
      sh(['mknod', '-m', mode, p, 'c', String(rdev >> 8), String(rdev & 0xff)]);
      if (owned) chownSync(p, this.uid, this.gid);
      chmodSync(p, Number.parseInt(mode, 8));
      bind.push([p, dev]);
    };
    if (existsSync('/dev/net/tun')) node('tun', '/dev/net/tun', '0666', false);
    const kvm = o.kvm && existsSync('/dev/kvm');
    if (kvm) node('kvm', '/dev/kvm', '0600', true);
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sleep', '3600'], {
      stdio: 'ignore',
      detached: true,
    });
    holder.unref();
    this.mntPid = holder.pid!;
    const own = readlinkSync('/proc/self/ns/mnt');
    const deadline = Date.now() + 10_000;
    while (readlinkSync(`/proc/${this.mntPid}/ns/mnt`) === own) {
      if (Date.now() > deadline) throw new Error('unshare did not make a mount namespace');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const [src, dst] of bind)
      sh(['nsenter', '--mount', `--target=${this.mntPid}`, '--', 'mount', '--bind', src, dst]);
    return kvm;
  }

  private prefix(): string[] {
    return this.mntPid ? ['nsenter', '--mount', `--target=${this.mntPid}`, `--wd=${reachableRoot()}`, '--'] : [];
  }

  /** The user's environment: a login's minimum, no XDG_RUNTIME_DIR (runuser sets none). */
  userEnv(extra: Record<string, string> = {}): string[] {
    const env: Record<string, string> = {
      HOME: this.home,
      USER: this.user,
      LOGNAME: this.user,
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      BANGER_PRIV_DIR: this.privDir,
      BANGER_BUILD_ID: `priv-test-${this.user}`,
      ...extra,
    };
    return Object.entries(env).map(([k, v]) => `${k}=${v}`);
  }

  /** argv as the user, inside the netns (and the private mount namespace). */
  asUser(
    argv: string[],
    o: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {},
  ): Promise<Result> {
    const full = [
      ...this.prefix(),
      'ip',
      'netns',
      'exec',
      this.netns,
      'runuser',
      '-u',
      this.user,
      '--',
      'env',
      '-i',
      ...this.userEnv(o.env),
      ...argv,
    ];
    return collect(full, o.timeoutMs ?? 60_000, o.input);
  }

  /** `banger ARGS` as the user, from source (the compiled test build lacks assets/). */
  banger(args: string[], o: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Result> {
    return this.asUser([process.execPath, '--import', 'tsx', reachableMain(), ...args], o);
  }

  /** The entry point called directly by the user, as the engine would: sudo -n ENTRY VERB ARGS. */
  entryCall(args: string[], input?: string): Promise<Result> {
    return this.asUser(['sudo', '-n', '--', this.entry, ...args], { input, timeoutMs: 20_000 });
  }

  /** `banger setup sudoers --user U MODE` run by root (from source, as a person would with sudo). */
  setup(mode: '--apply' | '--remove' | null, extra: string[] = []): Promise<Result> {
    const argv = [
      process.execPath,
      '--import',
      'tsx',
      reachableMain(),
      'setup',
      'sudoers',
      '--user',
      this.user,
      ...extra,
    ];
    // In the user's netns: the host whose interfaces and routes apply checks is theirs.
    return collect(
      [
        'ip',
        'netns',
        'exec',
        this.netns,
        'env',
        `BANGER_PRIV_DIR=${this.privDir}`,
        `HOME=${this.home}`,
        ...argv,
        ...(mode ? [mode] : []),
      ],
      60_000,
    );
  }

  /** A host command as root inside the netns. */
  inNs(argv: string[]): string {
    return sh([...this.prefix(), 'ip', 'netns', 'exec', this.netns, ...argv]);
  }

  /** What a refusal must leave untouched: links (with addresses) and the whole nft ruleset. */
  hostState(): string {
    return [
      // Bridge timers tick on their own; everything else must be identical.
      this.inNs(['ip', '-d', 'link', 'show']).replace(/\b\w+_timer\s+[\d.]+/g, ''),
      this.inNs(['ip', 'addr', 'show']),
      this.inNs(['nft', 'list', 'ruleset']),
    ].join('\n----\n');
  }

  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    process.off('exit', this.onExit);
    const kill = (pids: number[]) => {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    kill(pidsOfUid(this.uid));
    const nsPids = spawnSync('ip', ['netns', 'pids', this.netns], { encoding: 'utf8' }).stdout ?? '';
    if (!this.share) kill(nsPids.split('\n').filter(Boolean).map(Number));
    if (this.mntPid) kill([this.mntPid]);
    rmSync(dropInPath(this.user), { force: true });
    // A shared host (entry point dir, netns) is the first user's to remove.
    if (this.share) rmSync(join(this.privDir, 'users', `${this.user}.json`), { force: true });
    else {
      rmSync(this.privDir, { recursive: true, force: true });
      spawnSync('ip', ['netns', 'delete', this.netns]);
    }
    // userdel refuses while a process of the user lingers: wait for the kills to land.
    for (let i = 0; i < 50 && pidsOfUid(this.uid).length; i++) spawnSync('sleep', ['0.1']);
    spawnSync('userdel', ['-r', '-f', this.user], { stdio: 'ignore' });
    for (const d of [`/tmp/banger-${this.uid}`, `/tmp/tsx-${this.uid}`, this.scratch])
      rmSync(d, { recursive: true, force: true });
  }
}

/** A kernel (the simulator only opens it) and a small ext4 image in the user's scratch dir. */
export function simGuestFiles(u: TestUser): { kernel: string; rootfs: string } {
  const elf = Buffer.alloc(4096);
  elf.write('\x7fELF\x02\x01\x01\x00', 'latin1');
  const kernel = join(u.scratch, 'vmlinux');
  writeFileSync(kernel, elf);
  // A root tree banger knows how to customize (systemd flavour: no packages to fetch).
  const tree = join(u.scratch, 'tree');
  for (const d of ['lib/systemd', 'etc', 'root', 'sbin']) mkdirSync(join(tree, d), { recursive: true });
  writeFileSync(join(tree, 'lib/systemd/systemd'), '');
  const rootfs = join(u.scratch, 'rootfs.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, rootfs, '64M']);
  return { kernel, rootfs };
}

/** The user's "/dev/kvm" (config kvmPath): a stand-in file the user owns (the simulator never opens it). */
export function kvmStandIn(u: TestUser): string {
  const kvm = join(u.scratch, 'kvm-stand-in');
  writeFileSync(kvm, '', { mode: 0o600 });
  chownSync(kvm, u.uid, u.gid);
  return kvm;
}

/**
 * A root-owned copy of the simulator in a root-only dir (what `--firecracker PATH` may name):
 * DIR/NAME plus its API module. Returns the binary's path.
 */
export function rootSimCopy(dir: string, name = 'firecracker'): string {
  sh(['install', '-d', '-o', 'root', '-g', 'root', '-m', '0755', dir]);
  const src = join(ROOT, 'test', 'fixtures');
  sh(['install', '-o', 'root', '-g', 'root', '-m', '0755', join(src, 'firecracker-sim'), join(dir, name)]);
  sh(['install', '-o', 'root', '-g', 'root', '-m', '0644', join(src, 'firecracker-sim-api.mjs'), dir]);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n', { mode: 0o644 });
  return join(dir, name);
}

/** Nothing of banger's runs as root: the test user's processes are the engine and VMMs. */
export function noRootBangerProcesses(u: TestUser): void {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, 'latin1').replace(/\0/g, ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (cmd.includes(u.home) || cmd.includes(`/tmp/banger-${u.uid}/`))
      assert.is(uidOf(Number(e)), u.uid, `pid ${e} runs as the user: ${cmd}`);
  }
  assert.ok(pidsOfUid(u.uid).length >= 2, 'the engine and a VMM run as the user');
}

/** Every file under the user's banger dirs belongs to the user. */
export function ownedByUser(u: TestUser): void {
  const dirs = [u.paths.stateDir, u.paths.configDir, u.paths.cacheDir, `/tmp/banger-${u.uid}`];
  let n = 0;
  for (const d of dirs.filter(existsSync)) {
    for (const f of [d, ...(readdirSync(d, { recursive: true }) as string[]).map((x) => join(d, x))]) {
      const st = lstatSync(f);
      assert.is(st.uid, u.uid, `${f} is owned by the user`);
      n++;
    }
  }
  assert.ok(n > 10, `checked ${n} files`);
}
