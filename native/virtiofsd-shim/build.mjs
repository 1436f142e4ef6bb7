// Builds native/virtiofsd-shim/build/setgroups.so with the system C compiler (called from
// scripts/build-native.mjs at install). Without it, VMs with shared folders refuse to start and
// say to run `npm run build:native`.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(dir, 'build'), { recursive: true });
execFileSync(
  process.env.CC || 'cc',
  [
    '-shared',
    '-fPIC',
    '-O2',
    '-Wall',
    '-Wextra',
    '-o',
    join(dir, 'build', 'setgroups.so'),
    join(dir, 'setgroups.c'),
    '-ldl',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
